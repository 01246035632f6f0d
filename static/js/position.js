/* Reading position: the room opens at the first unread message (under "New messages") or at the
 * newest one; while the reader is at the end, new messages keep it at the end; while they read
 * older messages, arriving ones never move what they read, and a "N new messages below" control
 * appears instead (said once, politely) that takes them to the first of them.
 *
 * Where the room is an app shell the message log scrolls by itself; where it is one page again
 * (a short screen, 400 % zoom) the page scrolls: `scroller()` says which.
 */
import { announcer } from './announcer.js';
import { byId, currentUser, prefersReducedMotion } from './dom.js';
import { nt } from './i18n.js';
import { focusMessage } from './roving.js';

const NEAR_END_PX = 64;

let unseen = []; // ids of the messages that arrived below while the reader was further up

function scroller() {
  const log = byId('history');
  if (log && /^(auto|scroll)$/.test(getComputedStyle(log).overflowY)) return log;
  return document.scrollingElement || document.documentElement;
}

function behavior() { return prefersReducedMotion() ? 'auto' : 'smooth'; }

/** Whether the end of the history is in view (or nearly). */
export function atEnd() {
  const box = scroller();
  const list = byId('messages');
  if (!list) return true;
  if (box !== document.scrollingElement && box !== document.documentElement) {
    return box.scrollHeight - box.scrollTop - box.clientHeight <= NEAR_END_PX;
  }
  return list.getBoundingClientRect().bottom <= window.innerHeight + NEAR_END_PX;
}

function toEnd(smooth) {
  const box = scroller();
  const end = byId('log-end');
  if (box === document.scrollingElement || box === document.documentElement) {
    // The page scrolls: bring the end of the history just into view (the composer stays below).
    if (end) end.scrollIntoView({ block: 'end', behavior: smooth ? behavior() : 'auto' });
    return;
  }
  box.scrollTo({ top: box.scrollHeight, behavior: smooth ? behavior() : 'auto' });
}

function pluralize(n) { return nt('%(num)s new message below', '%(num)s new messages below', n); }

function showUnseen(quiet) {
  const button = byId('new-below');
  if (!button) return;
  const text = pluralize(unseen.length);
  if (button.textContent !== text) button.textContent = text;
  if (button.hidden) {
    button.hidden = false;
    // Said once, when it appears (the count then changes silently); not for what a reconnect
    // caught up with, nor for a reader who asked for no announcements.
    if (!quiet) announcer.notice(text, 'below');
  }
}

function clearUnseen() {
  unseen = [];
  const button = byId('new-below');
  if (button && !button.hidden) button.hidden = true;
}

/** Before a message is added: whether the reader is at the end (so should stay there). */
export function beforeArrival() {
  return atEnd();
}

/** After a message was added at the end (`quiet`: it is not to be announced). */
export function afterArrival(li, wasAtEnd, quiet) {
  const own = (li.getAttribute('data-author') || '').toLowerCase() === currentUser().toLowerCase();
  if (wasAtEnd || own) {
    // At once, not smoothly: a message arriving during a smooth scroll would find the reader
    // "not at the end" yet.
    clearUnseen();
    toEnd(false);
    return;
  }
  unseen.push(li.id);
  showUnseen(quiet || li.hasAttribute('data-replayed') || document.body.getAttribute('data-announce') === 'none');
}

/** Where the room opens. */
function open() {
  const target = location.hash.length > 1 && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) return; // a link to a message: the browser has shown it
  const current = document.querySelector('#messages > li.message[aria-current="true"]');
  if (current) {
    current.scrollIntoView({ block: 'center' }); // a permanent link: its message, in the middle
    return;
  }
  const divider = byId('new-messages');
  if (divider) {
    divider.scrollIntoView({ block: 'start' });
  } else {
    toEnd(false);
  }
}

export function start() {
  const list = byId('messages');
  if (!list) return;
  open();
  const button = byId('new-below');
  if (button) {
    button.addEventListener('click', () => {
      const first = unseen.map((id) => byId(id)).find(Boolean);
      clearUnseen();
      if (first) {
        focusMessage(first, null);
        first.scrollIntoView({ block: 'start', behavior: behavior() });
      } else {
        toEnd(true);
      }
    });
  }
  // Reading down to the end by oneself clears the control too.
  const onScroll = () => { if (unseen.length && atEnd()) clearUnseen(); };
  byId('history').addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('scroll', onScroll, { passive: true });
}
