/* Read markers: the newest message shown is posted as read (POST /rooms/ID/read, through htmx),
 * at most every 3 s, only while the page is visible, only forward, and only for members (the
 * composer is shown to members only). Opening the room marked it read up to what it showed. */
import { byId, currentRoom, isVisible, messageNumber, streamClosed } from './dom.js';

const INTERVAL_MS = 3000;

let sent = 0;      // the newest message number posted (or shown on opening)
let sentAt = 0;
let timer = null;
let source = null; // an element of its own for the requests (their events concern only this)

function newest() {
  const list = byId('messages');
  const items = list ? list.querySelectorAll(':scope > li.message[id^="m-"]') : [];
  return items.length ? messageNumber(items[items.length - 1]) : 0;
}

function canMarkRead() {
  return !!(currentRoom() && byId('composer') && !streamClosed() && window.htmx);
}

function send() {
  timer = null;
  if (!canMarkRead() || !isVisible()) return;
  const number = newest();
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
  if (timer || !canMarkRead() || !isVisible()) return;
  timer = setTimeout(send, Math.max(0, sentAt + INTERVAL_MS - Date.now()));
}

export function stopReading() {
  if (timer) { clearTimeout(timer); timer = null; }
}

export function start() {
  if (!currentRoom()) return;
  source = document.createElement('span');
  source.hidden = true;
  (byId('main') || document.body).append(source);
  sent = newest(); // showing the room marked it read up to here on the server
  document.addEventListener('visibilitychange', () => { if (isVisible()) scheduleRead(); });
}
