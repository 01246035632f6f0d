/* Where focus goes: on opening a room, to the composer (or to an error summary, read first, with
 * its links one Tab away); and across swaps, where it must not fall to the top of the page. When
 * a message (its edit form or delete question opening or closing, an edit or a deletion arriving
 * from the stream) or the "Show older messages" line is replaced while focus is inside it, focus
 * moves to the same place in its replacement: the form's field or the question's button, else
 * the message itself (the log's active message), else the element.
 */
import { byId, caretToEnd } from './dom.js';
import { focusMessage } from './roving.js';

const KEEPERS = 'li[id^="m-"], #older';
const ORDER = ['textarea', 'button.confirm-delete'];
const MEMO_MS = 10000;

let memo = null; // {id, at}: the element being replaced held focus

function shown(el) { return !!(el && !el.disabled && el.getClientRects().length); }

/** `target` is about to be replaced: remember it if it is (or is inside) a keeper holding focus. */
export function rememberFocus(target) {
  const active = document.activeElement;
  if (!target || !target.contains || !active || active === document.body || !target.contains(active)) return;
  const keeper = active.closest(KEEPERS);
  // A control that names itself (a reaction button) gets focus back in the replacement.
  const key = active.getAttribute('data-keep-focus');
  if (keeper && keeper.id && keeper.contains(target)) memo = { id: keeper.id, key, at: Date.now() };
}

function focusLost() {
  const active = document.activeElement;
  return !active || active === document.body || active === document.documentElement || !active.isConnected;
}

export function restoreFocus(scope) {
  if (!memo || !scope || scope.nodeType !== 1) return;
  const el = scope.id === memo.id ? scope : scope.querySelector('#' + CSS.escape(memo.id));
  if (!el) return;
  const fresh = Date.now() - memo.at < MEMO_MS;
  const memoKey = memo.key;
  memo = null;
  if (!fresh || !focusLost()) return; // the reader has moved on: leave focus alone
  const order = el.id === 'older' ? ['a[href]'] : ORDER;
  let target = null;
  if (memoKey) {
    target = [...el.querySelectorAll('[data-keep-focus]')].find((c) => c.getAttribute('data-keep-focus') === memoKey && shown(c)) || null;
    if (target) { target.focus(); return; }
  }
  for (const selector of order) {
    target = [...el.querySelectorAll(selector)].find(shown) || null;
    if (target) break;
  }
  if (target) {
    target.focus();
    if (target.tagName === 'TEXTAREA') caretToEnd(target);
  } else if (el.matches('li.message')) {
    focusMessage(el, null);
  } else {
    // Nothing to operate (the start of the conversation): the element itself.
    el.setAttribute('tabindex', '-1');
    el.focus();
  }
}

/** On opening a page: an error summary first; at a message's permanent link, that message; in a
 * room, the composer. */
function focusOnOpen() {
  const summary = byId('error-summary');
  if (summary) {
    summary.focus();
    return;
  }
  const current = document.querySelector('#messages > li.message[aria-current="true"]');
  if (current) {
    focusMessage(current, 'center');
    return;
  }
  const field = byId('composer-body');
  if (field && !field.disabled && shown(field)) {
    field.focus({ preventScroll: true });
    caretToEnd(field);
  }
}

export function start() {
  const root = byId('main') || document.body;
  root.addEventListener('htmx:beforeSwap', (event) => rememberFocus(event.detail && event.detail.target));
  root.addEventListener('htmx:oobBeforeSwap', (event) => {
    const detail = event.detail || {};
    const target = detail.target;
    // An edit (from this or another tab) arriving while this message's edit form or delete
    // question is open keeps the form: the reader is using it. A deletion still replaces it.
    // (Known by its form, not its class: htmx puts the old class back for a moment while settling.)
    if (target && target.querySelector && target.querySelector('form') && detail.fragment) {
      const incoming = detail.fragment.querySelector('li[id^="m-"]');
      if (incoming && incoming.id === target.id && !incoming.classList.contains('deleted')) {
        detail.shouldSwap = false;
        return;
      }
    }
    rememberFocus(target);
  });
  root.addEventListener('htmx:load', (event) => restoreFocus(event.target));
  focusOnOpen();
}
