/* The composer. Enter sends and Shift+Enter starts a new line; on a touch screen (whose keyboard
 * has no Shift+Enter) Enter starts a new line and the Send button sends; the hint under the label
 * says which (and without script says nothing about Enter).
 *
 * Focus stays in the composer: a sent message refreshes the composer's hidden values (its fresh
 * nonce) instead of replacing it, so it is the same field and a screen reader does not read it out
 * again after every message; text typed while a message was on its way is kept. Errors that stop
 * a message (no connection, a rate limit, a refused or invalid message) are shown beside the
 * composer and said once, politely, with what to do; the text stays in the composer.
 */
import { announcer } from './announcer.js';
import { byId, coarsePointer, requestElement, sentence, squash, streamClosed, submit, caretToEnd, withoutErrorWord } from './dom.js';
import { closeComposer } from './connection.js';
import { t } from './i18n.js';

const HINT_KEYS = () => t('Enter sends. Shift+Enter starts a new line.');
const HINT_TOUCH = () => t('Enter starts a new line. Use the Send button to send.');

const state = { focused: false, sent: null, current: null };

function isComposerRequest(detail) {
  const elt = requestElement(detail);
  return !!(elt && elt.id === 'composer');
}

/** The hint, for the keyboard this reader has. */
export function writeHint() {
  const hint = byId('composer-hint');
  if (!hint) return;
  const text = coarsePointer() ? HINT_TOUCH() : HINT_KEYS();
  if (hint.textContent !== text) hint.textContent = text;
}

// What stays in the composer once a message is sent: whatever was typed after it.
function keptText(sent, current) {
  if (sent === null || current === null || current === sent) return '';
  return current.indexOf(sent) === 0 ? current.slice(sent.length) : current;
}

/* A message was sent: the answer is a fresh composer (a new nonce). When neither composer shows
 * an error, the one on the page takes the new hidden values instead of being replaced. */
function refreshComposer(html) {
  const form = byId('composer');
  const field = byId('composer-body');
  if (!form || !field || byId('composer-error') || !html) return false;
  const template = document.createElement('template');
  template.innerHTML = html;
  const fresh = template.content.querySelector('form#composer');
  if (!fresh || fresh.querySelector('#composer-error')) return false;
  const hidden = [...fresh.querySelectorAll('input[type="hidden"][name]')];
  const mine = hidden.map((input) => form.querySelector('input[type="hidden"][name="' + input.name + '"]'));
  if (mine.some((input) => !input)) return false; // not the form this page knows: let htmx replace it
  hidden.forEach((input, i) => { mine[i].value = input.value; });
  field.value = keptText(state.sent, field.value);
  changed(field);
  return true;
}

/** Tell the drafts (drafts.js) that the text changed without typing (an `input` event would
 * also send a typing signal). */
function changed(field) {
  field.dispatchEvent(new CustomEvent('webchat:composer-changed', { bubbles: true }));
}

function notSent(reason) {
  return t('Your message was not sent. %(reason)s', { reason: sentence(withoutErrorWord(reason)) });
}

export function start() {
  const main = byId('main');
  if (!main || !byId('composer')) return;
  writeHint();
  if (window.matchMedia) window.matchMedia('(pointer: coarse)').addEventListener('change', writeHint);

  main.addEventListener('keydown', (event) => {
    const field = event.target;
    if (!field || field.id !== 'composer-body' || event.key !== 'Enter') return;
    if (event.shiftKey || event.altKey || event.isComposing || event.keyCode === 229) return;
    if (coarsePointer()) return; // a new line; the Send button sends
    event.preventDefault();
    const files = byId('composer-files');
    if (field.disabled || field.readOnly || (!field.value.trim() && !(files && files.files.length))) return;
    if (field.form) submit(field.form);
  });

  main.addEventListener('submit', (event) => {
    if (event.target && event.target.id === 'composer') {
      state.focused = event.target.contains(document.activeElement);
    }
  }, true);

  main.addEventListener('htmx:beforeRequest', (event) => {
    if (!isComposerRequest(event.detail)) return;
    const field = byId('composer-body');
    state.sent = field ? field.value : null;
  });

  main.addEventListener('htmx:beforeSwap', (event) => {
    const detail = event.detail;
    if (!isComposerRequest(detail)) return;
    const field = byId('composer-body');
    state.current = field ? field.value : null;
    const status = detail.xhr ? detail.xhr.status : 200;
    const notice = byId('composer-notice');
    if (status >= 400 && status !== 422 && status !== 401 && notice) {
      // Not a composer (rate limit, expired form, server error): show it beside the composer
      // instead of replacing the composer and the text in it.
      detail.target = notice;
      detail.swapOverride = 'innerHTML';
      state.current = null;
      return;
    }
    if (notice) notice.textContent = '';
    if (status === 200 && refreshComposer(detail.serverResponse)) {
      detail.shouldSwap = false;
      state.sent = state.current = null;
      state.focused = false;
    }
  });

  main.addEventListener('htmx:afterSwap', (event) => {
    const form = event.target;
    if (!form || form.id !== 'composer') return;
    const field = byId('composer-body');
    if (!field) return;
    writeHint();
    const { sent, current } = state;
    state.sent = state.current = null;
    // Text typed while the message was on its way is kept, not wiped by the fresh composer.
    if (current !== null && sent !== null && current !== sent && (field.value === '' || field.value === sent)) {
      field.value = keptText(sent, current);
    }
    changed(field);
    if (streamClosed()) { closeComposer(); return; }
    const error = byId('composer-error');
    if (state.focused) {
      state.focused = false;
      // A 422's error is part of the field's description: focusing the field says it.
      field.focus({ preventScroll: true });
      caretToEnd(field);
    } else if (error) {
      announcer.notice(notSent(error.textContent), 'composer');
    }
  });

  // The server's answer (a rate limit, an expired form, a failure) has just been put beside the
  // composer (see htmx:beforeSwap above): say it.
  main.addEventListener('htmx:afterRequest', (event) => {
    const detail = event.detail || {};
    const status = detail.xhr ? detail.xhr.status : 0;
    if (!isComposerRequest(detail) || status < 400 || status === 401 || status === 422) return;
    const notice = byId('composer-notice');
    if (!notice) return;
    const heading = notice.querySelector('h2');
    const parts = [...notice.querySelectorAll('p')].map((p) => sentence(p.textContent));
    const reason = (heading ? sentence(heading.textContent) + ' ' : '') + parts.join(' ');
    announcer.notice(notSent(squash(reason) || t('Something went wrong. Try again.')), 'composer');
  });

  // No answer at all (offline, the server down): nothing was swapped, so say it here.
  main.addEventListener('htmx:sendError', (event) => {
    if (!isComposerRequest(event.detail)) return;
    const reason = t('The server could not be reached. Check your connection, then press Enter to send it again.');
    const notice = byId('composer-notice');
    if (notice) {
      const box = document.createElement('div');
      const heading = document.createElement('h2');
      const text = document.createElement('p');
      box.className = 'error-summary';
      heading.textContent = t('Your message was not sent');
      text.textContent = reason;
      box.append(heading, text);
      notice.replaceChildren(box);
    }
    announcer.notice(notSent(reason), 'composer');
  });
}
