/* Replying in place. A message's Reply is a link to the room page with `?reply_to=MID`, where the
 * composer carries the reply (without script that is all there is). With script the composer
 * takes the reply where it is: the "Replying to Ana: …" line and the hidden `reply_to` are filled
 * from the link, the field describes itself with that line, and focus goes to the field. Cancel
 * reply, or Escape in the field, drops the reply (the text stays); a sent message drops it too
 * (the fresh composer's empty `reply_to` is copied in by composer.js).
 */
import { byId, caretToEnd, requestElement } from './dom.js';

const LABEL = 'composer-reply-label';

function parts() {
  const block = byId('composer-reply');
  const field = byId('composer-body');
  const input = block && block.querySelector('input[name="reply_to"]');
  const label = byId(LABEL);
  return block && field && input && label ? { block, field, input, label } : null;
}

function describe(field, on) {
  const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && id !== LABEL);
  if (on) ids.unshift(LABEL);
  field.setAttribute('aria-describedby', ids.join(' '));
}

/** The composer answers message `id`, whose line is `text`. */
export function replyTo(id, text) {
  const p = parts();
  if (!p) return false;
  p.input.value = id;
  p.label.textContent = text;
  p.block.hidden = false;
  describe(p.field, true);
  p.field.focus();
  caretToEnd(p.field);
  return true;
}

/** The composer answers nothing. */
export function cancelReply() {
  const p = parts();
  if (!p || p.block.hidden) return false;
  p.input.value = '';
  p.label.textContent = '';
  p.block.hidden = true;
  describe(p.field, false);
  return true;
}

function plainClick(event) {
  return event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey;
}

export function start() {
  if (!parts()) return;
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target || !plainClick(event)) return;
    const reply = target.closest('a.act-reply');
    if (reply && reply.closest('#messages')) {
      const details = reply.closest('details');
      if (replyTo(reply.getAttribute('data-reply-to'), reply.getAttribute('data-reply-label') || '')) {
        event.preventDefault();
        if (details) details.open = false;
      }
      return;
    }
    if (target.closest('a.reply-cancel')) {
      event.preventDefault();
      cancelReply();
      const field = byId('composer-body');
      if (field) field.focus();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.defaultPrevented || event.isComposing) return;
    const target = event.target;
    if (!(target instanceof HTMLElement) || !target.closest('#composer')) return;
    if (cancelReply()) {
      event.preventDefault();
      const field = byId('composer-body');
      if (field && target !== field) field.focus();
    }
  });
  // Sent: the reply is made.
  document.addEventListener('htmx:afterRequest', (event) => {
    const elt = requestElement(event.detail);
    if (elt && elt.id === 'composer' && event.detail.successful) cancelReply();
  });
}
