/* The message log is one stop in the Tab order, however long the history: one message at a time
 * (the "active" one) is focusable; the arrow keys move between messages (Up, Down, Home, End),
 * and Up from the first message reaches "Show older messages" (Down comes back); Enter opens the
 * focused message's actions menu (actions.js). Only
 * the active message's own controls (its actions button, links in its text, an edit form open
 * in it) are in the Tab order, so from the focused message Tab reaches them, then goes on past the log.
 *
 * The active message starts as the one a permanent link is to, else the first unread one (under
 * "New messages"), else the newest;
 * it follows focus (a click, a form opened in place) and stays where it is when messages arrive.
 * Without script the log itself is focusable (it scrolls from the keyboard) and every control in
 * it is in the Tab order.
 */
import { byId } from './dom.js';
import { openMenu } from './actions.js';

const CONTROLS = 'a[href], button, input, select, textarea, summary, [tabindex]';
const MUTED = 'data-roving-muted'; // a control this module took out of the Tab order

let activeId = null; // the id of the active message ("m-12")
let chosen = false;   // whether the reader put it there (else it follows the newest message)

function items(list) {
  return [...list.children].filter((li) => li.matches('li.message'));
}

function mute(li, muted) {
  for (const control of li.querySelectorAll(CONTROLS)) {
    if (muted) {
      if (control.getAttribute('tabindex') !== '-1') {
        control.setAttribute('tabindex', '-1');
        control.setAttribute(MUTED, '');
      }
    } else if (control.hasAttribute(MUTED)) {
      control.removeAttribute('tabindex');
      control.removeAttribute(MUTED);
    }
  }
}

/** Make the Tab order match the active message (or, with no messages, the log itself). */
function refresh(list, log) {
  const all = items(list);
  let active = activeId ? byId(activeId) : null;
  if (!active || !all.includes(active) || !chosen) {
    // The first unread message while the reader has not moved, else the newest.
    // (At a message's permanent link, that message.)
    const first = !chosen && (list.getAttribute('data-current') || list.getAttribute('data-first-unread'));
    active = (first && byId('m-' + first)) || all[all.length - 1] || null;
    activeId = active ? active.id : null;
    chosen = false;
  }
  for (const li of all) {
    const on = li === active;
    const want = on ? '0' : '-1';
    if (li.getAttribute('tabindex') !== want) li.setAttribute('tabindex', want);
    mute(li, !on);
  }
  if (log) log.setAttribute('tabindex', active ? '-1' : '0');
  // "Show older messages" belongs to the log's one stop: Up from the first message.
  const older = olderLink();
  if (older) {
    if (active) older.setAttribute('tabindex', '-1'); else older.removeAttribute('tabindex');
  }
}

function olderLink() {
  return document.querySelector('#older a[href]');
}

/** Focus a message (it becomes the active one) and bring it into view (`block`, as for
 * scrollIntoView; null: leave the view alone). */
export function focusMessage(li, block = 'nearest') {
  const list = byId('messages');
  if (!li || !list || !list.contains(li)) return;
  activeId = li.id;
  chosen = true;
  refresh(list, byId('history'));
  li.focus({ preventScroll: true });
  if (block) li.scrollIntoView({ block });
}

export function start() {
  const list = byId('messages');
  const log = byId('history');
  if (!list) return;
  refresh(list, log);

  // New or replaced items (arrivals, older history, edits, forms opened in place): out of the
  // Tab order unless active. Controls added inside an item (a form) are handled on focus.
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; refresh(list, log); });
  }).observe(list, { childList: true });

  list.addEventListener('focusin', (event) => {
    const li = event.target.closest('li.message');
    if (li && li.parentElement === list && (li.id !== activeId || !chosen)) {
      activeId = li.id;
      chosen = true;
      refresh(list, log);
    }
  });
  // htmx swapped something inside an item (an edit form, a confirmation): its controls follow.
  list.addEventListener('htmx:afterSettle', () => refresh(list, log));

  (log || list).addEventListener('keydown', (event) => {
    const li = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (li === olderLink() && event.key === 'ArrowDown') {
      const first = items(list)[0];
      if (first) { event.preventDefault(); focusMessage(first); }
      return;
    }
    if (!(li instanceof HTMLElement) || !li.matches('li.message') || li.parentElement !== list) return;
    const all = items(list);
    const here = all.indexOf(li);
    let next = null;
    switch (event.key) {
      case 'ArrowDown': next = all[here + 1]; break;
      case 'ArrowUp':
        if (here === 0 && olderLink()) {
          event.preventDefault();
          olderLink().focus();
          return;
        }
        next = all[here - 1];
        break;
      case 'Home': next = all[0]; break;
      case 'End': next = all[all.length - 1]; break;
      case 'Enter': {
        const menu = li.querySelector('details.msg-actions');
        if (menu) { event.preventDefault(); openMenu(menu); }
        return;
      }
      default: return;
    }
    event.preventDefault();
    if (next) focusMessage(next);
  });
}
