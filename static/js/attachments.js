/* Files in the composer. Without script the form has a plain file field and a few numbered
 * description fields (templates/messages/_attach.html). With it: one description field per chosen
 * image, beside a preview of that image ("Description of image 1, cat.png"); files dropped on the
 * composer or pasted into the message box join the chosen ones; a sent message clears them. The
 * server decides what is an image by its first bytes and matches the descriptions to the images in
 * order, so the fields are decided the same way (the browser's word, file.type, goes by the name),
 * and the server still refuses an image with no description.
 */
import { announcer } from './announcer.js';
import { byId, requestElement, withoutErrorWord } from './dom.js';
import { nt, t } from './i18n.js';

const previews = [];
// A refused post's files and descriptions, put back into the composer that replaces it.
let stash = null;
// Each renderFields call reads files first; only the newest call's fields are shown.
let rendering = 0;

function startsWith(bytes, signature, at = 0) {
  return signature.every((byte, index) => bytes[at + index] === byte);
}

const ascii = (text) => [...text].map((c) => c.charCodeAt(0));

/** Whether the server will take the file as an image: JPEG, PNG, GIF, WebP or BMP by its first
 * bytes, as webchat/files/content.py decides (whatever the file's name or type says). */
async function isImage(file) {
  let bytes;
  try {
    bytes = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  } catch {
    return /^image\/(png|jpeg|gif|webp|bmp)$/.test(file.type);  // unreadable here: the browser's word
  }
  return startsWith(bytes, [0xff, 0xd8, 0xff]) || startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    || startsWith(bytes, ascii('GIF8')) || (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8))
    || startsWith(bytes, ascii('BM'));
}

async function imagesOf(files) {
  const flags = await Promise.all([...files].map(isImage));
  return [...files].filter((file, index) => flags[index]);
}

function releasePreviews() {
  while (previews.length) URL.revokeObjectURL(previews.pop());
}

/** One labelled description field (and "decorative" box) per chosen image, in order. */
async function renderFields() {
  const input = byId('composer-files');
  const box = byId('composer-alts');
  if (!input || !box) return;
  const turn = ++rendering;
  const kept = new Map([...box.querySelectorAll('.alt-field')].map((field) => [
    field.getAttribute('data-file') || '', {
      alt: field.querySelector('input[name="alt"]')?.value || '',
      decorative: Boolean(field.querySelector('input[type="checkbox"]')?.checked),
    }]));
  const given = stash;
  stash = null;
  const images = await imagesOf(input.files);
  if (turn !== rendering) return;
  releasePreviews();
  const fields = images.map((file, index) => {
    const n = index + 1;
    const field = document.createElement('div');
    field.className = 'alt-field with-preview';
    field.setAttribute('data-file', file.name + ':' + file.size);
    const preview = document.createElement('img');
    const url = URL.createObjectURL(file);
    previews.push(url);
    preview.src = url;
    preview.alt = '';
    preview.className = 'alt-preview';
    const label = document.createElement('label');
    label.htmlFor = 'composer-alt-' + n;
    label.textContent = t('Description of image %(number)s, %(name)s', { number: n, name: file.name });
    const text = document.createElement('input');
    text.type = 'text';
    text.id = 'composer-alt-' + n;
    text.name = 'alt';
    text.maxLength = 1000;
    const before = given ? given.fields[index] : kept.get(file.name + ':' + file.size);
    text.value = (before && before.alt) || '';
    const check = document.createElement('label');
    check.className = 'checkbox';
    const box2 = document.createElement('input');
    box2.type = 'checkbox';
    box2.name = 'decorative-' + n;
    box2.value = '1';
    box2.checked = Boolean(before && before.decorative);
    check.append(box2, ' ' + t('Image %(number)s is decorative (nothing to describe)', { number: n }));
    field.append(preview, label, text, check);
    return field;
  });
  box.replaceChildren(...fields);
  box.hidden = fields.length === 0;
}

/** Add files (dropped or pasted) to those already chosen; whether they were (said at once, so
 * that the drop or paste event can be stopped). */
function addFiles(files) {
  const input = byId('composer-files');
  if (!input || !files.length || typeof DataTransfer === 'undefined') return false;
  const all = new DataTransfer();
  for (const file of [...input.files, ...files]) all.items.add(file);
  input.files = all.files;
  const details = byId('composer-attach');
  if (details) details.open = true;
  announceAdded(files);
  return true;
}

/** The fields for the files just added, then how many were added and whether to describe them. */
async function announceAdded(files) {
  await renderFields();
  const images = (await imagesOf(files)).length;
  const n = files.length;
  let said;
  if (images > 1) said = t('%(num)s files added; describe each image below the files.', { num: n });
  else if (images === 1) {
    said = nt('%(num)s file added; describe the image below the files.',
      '%(num)s files added; describe the image below the files.', n);
  } else said = nt('%(num)s file added.', '%(num)s files added.', n);
  announcer.notice(said, 'composer');
}

function clearFiles() {
  const input = byId('composer-files');
  if (!input || !input.files.length) return;
  input.value = '';
  renderFields();
}

export function start() {
  const main = byId('main');
  if (!main || !byId('composer')) return;
  if (byId('composer-files') && byId('composer-files').files.length) renderFields();
  else if (byId('composer-alts') && !byId('composer-files-error')) {
    byId('composer-alts').replaceChildren();
    byId('composer-alts').hidden = true;
  }

  main.addEventListener('change', (event) => {
    if (event.target && event.target.id === 'composer-files') renderFields();
  });

  main.addEventListener('dragover', (event) => {
    if (!event.target.closest || !event.target.closest('#composer')) return;
    if (event.dataTransfer && [...event.dataTransfer.types].includes('Files')) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    }
  });
  main.addEventListener('drop', (event) => {
    if (!event.target.closest || !event.target.closest('#composer')) return;
    const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (files.length && addFiles(files)) event.preventDefault();
  });
  main.addEventListener('paste', (event) => {
    if (!event.target || event.target.id !== 'composer-body' || !event.clipboardData) return;
    const files = [...event.clipboardData.files];
    if (files.length && addFiles(files)) event.preventDefault();
  });

  // Sent: the composer stays (composer.js refreshes it in place), so its files are cleared here.
  main.addEventListener('htmx:afterRequest', (event) => {
    const detail = event.detail || {};
    const elt = requestElement(detail);
    const status = detail.xhr ? detail.xhr.status : 0;
    if (elt && elt.id === 'composer' && status >= 200 && status < 300) clearFiles();
  });

  main.addEventListener('htmx:beforeSwap', (event) => {
    const detail = event.detail || {};
    const elt = requestElement(detail);
    const input = byId('composer-files');
    if (!elt || elt.id !== 'composer' || !input || !detail.xhr || detail.xhr.status !== 422) return;
    stash = {
      files: input.files,
      fields: [...document.querySelectorAll('#composer-alts .alt-field')].map((field) => ({
        alt: field.querySelector('input[name="alt"]')?.value || '',
        decorative: Boolean(field.querySelector('input[type="checkbox"]')?.checked),
      })),
    };
  });

  // Refused: the files chosen are put back (a page without script must ask for them again), the
  // field at fault gets focus, and its error is its description.
  main.addEventListener('htmx:afterSwap', async (event) => {
    if (!event.target || event.target.id !== 'composer') return;
    const input = byId('composer-files');
    if (stash && input && stash.files.length) {
      input.files = stash.files;
      const hint = byId('composer-files-error');
      if (hint) {
        for (const again of [t('Choose the files again.'), 'Choose the files again.']) {
          hint.textContent = hint.textContent.replace(' ' + again, '');
        }
      }
    }
    const error = byId('composer-files-error');
    if (!error) { renderFields(); return; }
    // The field at fault may be one of the numbered ones that renderFields replaces: found again by id.
    const fault = event.target.querySelector('[aria-invalid="true"]');
    await renderFields();
    const field = (fault && byId(fault.id)) || byId('composer-files');
    if (field && field !== fault) {
      field.setAttribute('aria-invalid', 'true');
      field.setAttribute('aria-describedby', 'composer-files-error');
    }
    if (field) field.focus();
    announcer.notice(t('Your message was not sent. %(reason)s', { reason: withoutErrorWord(error.textContent) }), 'composer');
  });
}
