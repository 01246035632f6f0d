/* Small helpers without state, shared by the feature modules. */
import { t } from './i18n.js';

export const byId = (id) => document.getElementById(id);

export const squash = (text) => (text || '').replace(/\s+/g, ' ').trim();

/** The text as a sentence: squashed, ending with a full stop unless it ends with punctuation
 * (or in Thai, whose sentences end with none: a space parts them). */
export function sentence(text) {
  text = squash(text);
  return !text || /[.!?…:\u0E00-\u0E7F]$/.test(text) ? text : text + '.';
}

/** A server's error text without the "Error:" before it (said already by what comes first). */
export function withoutErrorWord(text) {
  const trimmed = String(text || '').trimStart();
  for (const word of [t('Error:'), 'Error:']) {
    if (trimmed.startsWith(word)) return trimmed.slice(word.length).trimStart();
  }
  return trimmed;
}

export const isVisible = () => document.visibilityState !== 'hidden';

export const prefersReducedMotion = () =>
  !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);

/** A touch screen is the main pointer: its keyboard has no Shift+Enter, so Enter adds a line. */
export const coarsePointer = () =>
  !!(window.matchMedia && window.matchMedia('(pointer: coarse)').matches);

export const currentUser = () => document.body.getAttribute('data-user') || '';

export const currentRoom = () => document.body.getAttribute('data-room') || '';

/** The page's event stream has been closed for good (removed from the room, signed out). */
export const streamClosed = () => document.documentElement.classList.contains('stream-closed');

export function messageNumber(li) {
  const m = li && li.id ? /^m-(\d+)$/.exec(li.id) : null;
  return m ? parseInt(m[1], 10) : 0;
}

export function messageIdIn(html) {
  const m = /\bid="(m-\d+)"/.exec(html || '');
  return m ? m[1] : null;
}

/** The first element of an HTML fragment matching the selector (parsed, not yet in the page). */
export function parseFirst(html, selector) {
  const template = document.createElement('template');
  template.innerHTML = html || '';
  return template.content.querySelector(selector);
}

/** Submit a form as its submit button would (htmx sees the submit event). */
export function submit(form) {
  if (typeof form.requestSubmit === 'function') {
    form.requestSubmit();
  } else {
    const button = form.querySelector('button[type="submit"], button:not([type])');
    if (button) button.click(); else form.submit();
  }
}

/** The element that made an htmx request, from an htmx event's detail. */
export function requestElement(detail) {
  return detail && detail.requestConfig ? detail.requestConfig.elt : detail && detail.elt;
}

/** Put the caret at the end of a text field. */
export function caretToEnd(field) {
  const end = field.value.length;
  try { field.setSelectionRange(end, end); } catch (e) { /* not a text control */ }
}
