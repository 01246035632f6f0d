/* The history's shape, in the reader's own days: a heading where a day starts ("Today",
 * "Yesterday", a date: screen-reader users move through history by heading), the "New messages"
 * divider kept at the reader's first unread message, and consecutive messages by one author
 * within a few minutes grouped for the eye (each keeps its whole sentence for the ear).
 *
 * The server renders the days in the reader's zone when they chose one, and in UTC, labelled as
 * such, otherwise (for pages without script); this replaces the UTC ones and agrees with the others. Everything lives inside the <li id="m-N"> items, so #messages stays a list of messages.
 * `decorate()` is idempotent and cheap (one pass, changing only what differs); it runs on load,
 * whenever items are added or replaced, and at midnight (today becomes yesterday).
 */
import { byId } from './dom.js';
import { dayKey, dayLabel } from './times.js';

const GROUP_MS = 5 * 60 * 1000;
// The divider the page was rendered with; kept here, since an edit or a deletion of the message
// it sits in replaces that message (and the divider with it).
let divider = null;

function momentOf(li) {
  const time = li.querySelector('time[datetime]');
  const iso = time ? time.getAttribute('datetime') : li.getAttribute('data-at');
  const date = iso ? new Date(iso) : null;
  return date && !isNaN(date.getTime()) ? date : null;
}

function heading(li) {
  return li.querySelector(':scope > .day-heading');
}

function setHeading(li, date) {
  const key = dayKey(date);
  const label = dayLabel(date);
  let h = heading(li);
  if (!h || h.hasAttribute('data-utc-day')) {
    const fresh = document.createElement('h3');
    fresh.className = 'day-heading';
    if (h) h.replaceWith(fresh); else li.prepend(fresh);
    h = fresh;
  }
  if (h.getAttribute('data-day') !== key) h.setAttribute('data-day', key);
  if (h.textContent !== label) h.textContent = label;
  return h;
}

export function decorate() {
  const list = byId('messages');
  if (!list) return;
  const firstUnread = list.getAttribute('data-first-unread');
  let prev = null;
  let prevDate = null;
  for (const li of list.children) {
    if (!li.matches('li.message')) continue;
    const date = momentOf(li);
    const newDay = !!date && (!prevDate || dayKey(date) !== dayKey(prevDate));
    if (newDay) {
      setHeading(li, date);
    } else {
      const old = heading(li);
      if (old) old.remove();
    }
    if (divider && firstUnread && li.id === 'm-' + firstUnread) {
      const after = heading(li);
      if (after ? after.nextElementSibling !== divider : li.firstElementChild !== divider) {
        if (after) after.after(divider); else li.prepend(divider);
      }
    }
    const continues = !!(prev && date && prevDate && !newDay &&
      prev.getAttribute('data-author') === li.getAttribute('data-author') &&
      date - prevDate < GROUP_MS && !li.querySelector(':scope > .new-divider') &&
      !li.matches('.editing, .confirming'));
    if (li.classList.contains('continues') !== continues) li.classList.toggle('continues', continues);
    prev = li;
    if (date) prevDate = date;
  }
}

// Today becomes yesterday at the reader's midnight (in their zone): checked every minute.
function atMidnight(then) {
  let today = dayKey(new Date());
  setInterval(() => {
    const now = dayKey(new Date());
    if (now !== today) { today = now; then(); }
  }, 60 * 1000);
}

export function start() {
  const list = byId('messages');
  if (!list) return;
  divider = byId('new-messages');
  decorate();
  // Items added (arrivals, older history) or replaced (edits, deletions, forms opened in place).
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; decorate(); });
  }).observe(list, { childList: true });
  atMidnight(decorate);
}
