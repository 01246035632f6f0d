/* Read markers: a room is read only as far as its messages have been on screen in a visible,
 * focused tab. The newest message on screen is posted as read (POST /rooms/ID/read, through
 * htmx), at most every 3 s, only forward, and only for members (the composer is shown to members
 * only): when the page opens, becomes visible or focused, scrolls, and when messages arrive.
 *
 * Fetching a room page marks it read on the server only for a browser without this script (it
 * cannot know what was seen): this module sets a cookie (`webchat_js`) on every page, and a room
 * page fetched with it leaves the marker alone. A browser that stops running the script stops
 * sending the cookie within 12 hours. */
import { byId, currentRoom, isVisible, messageNumber, streamClosed } from './dom.js';

const INTERVAL_MS = 3000;
const COOKIE = 'webchat_js=1; Path=/; Max-Age=43200; SameSite=Lax';

let sent = 0;      // the newest message number posted (or known read on opening)
let sentAt = 0;
let timer = null;
let source = null; // an element of its own for the requests (their events concern only this)

function items() {
  const list = byId('messages');
  return list ? list.querySelectorAll(':scope > li.message[id^="m-"]') : [];
}

/** The newest message the reader can see now: in the log's view and in the window's. */
export function newestOnScreen() {
  const all = items();
  if (!all.length) return 0;
  const log = byId('history');
  const view = log ? log.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
  const top = Math.max(view.top, 0);
  const bottom = Math.min(view.bottom, window.innerHeight);
  for (let i = all.length - 1; i >= 0; i--) {
    const box = all[i].getBoundingClientRect();
    if (!box.width && !box.height) continue; // not shown
    if (box.top >= bottom) continue; // below the view
    if (box.bottom <= top) return 0; // above it: nothing newer is seen
    return messageNumber(all[i]);
  }
  return 0;
}

const seeing = () => isVisible() && document.hasFocus();

function canMarkRead() {
  return !!(currentRoom() && byId('composer') && !streamClosed() && window.htmx);
}

function send() {
  timer = null;
  if (!canMarkRead() || !seeing()) return;
  const number = newestOnScreen();
  if (!number || number <= sent) return;
  const previous = sent;
  sent = number;
  sentAt = Date.now();
  const giveBack = () => { if (sent === number) sent = previous; }; // try again with the next
  const path = '/rooms/' + encodeURIComponent(currentRoom()) + '/read';
  source.addEventListener('htmx:afterRequest', (event) => {
    const xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status >= 500) giveBack();
  }, { once: true });
  window.htmx.ajax('POST', path, { source, values: { last_message_id: String(number) }, swap: 'none' })
    .catch(giveBack); // offline, or the server down
}

export function scheduleRead() {
  if (timer || !canMarkRead() || !seeing()) return;
  timer = setTimeout(send, Math.max(0, sentAt + INTERVAL_MS - Date.now()));
}

export function stopReading() {
  if (timer) { clearTimeout(timer); timer = null; }
}

/** What the page opened with as read: all of it, or up to the message before the first unread. */
function readOnOpening() {
  const all = [...items()];
  if (!all.length) return 0;
  const list = byId('messages');
  const firstUnread = list && list.getAttribute('data-first-unread');
  if (!firstUnread) return list && list.hasAttribute('data-current') ? 0 : messageNumber(all[all.length - 1]);
  const at = all.findIndex((li) => li.id === 'm-' + firstUnread);
  return at > 0 ? messageNumber(all[at - 1]) : 0;
}

export function start() {
  document.cookie = COOKIE + (location.protocol === 'https:' ? '; Secure' : '');
  if (!currentRoom()) return;
  source = document.createElement('span');
  source.hidden = true;
  (byId('main') || document.body).append(source);
  sent = readOnOpening();
  document.addEventListener('visibilitychange', scheduleRead);
  window.addEventListener('focus', scheduleRead);
  const log = byId('history');
  if (log) log.addEventListener('scroll', scheduleRead, { passive: true });
  window.addEventListener('scroll', scheduleRead, { passive: true });
  window.addEventListener('resize', scheduleRead, { passive: true });
  // Once the page has placed the log (at the first unread message, or the newest).
  requestAnimationFrame(() => requestAnimationFrame(scheduleRead));
}
