/* The page's event stream: a lost connection is shown (and said) only once it has been down for
 * a few seconds, and so is its recovery; `reload` reloads the page (it is too far behind); `close`
 * (removed from the room, signed out) ends it for good: the composer goes, and focus moves to the
 * notice that says why. A signed-out htmx request (401) sends the reader to sign in. */
import { announcer } from './announcer.js';
import { byId } from './dom.js';
import { t } from './i18n.js';
import { stopReading } from './read.js';

const DOWN_NOTICE_MS = 5000;
const LOST = () => t('Connection lost. Trying to reconnect; wait before sending.');
const BACK = () => t('Connected again. Messages you missed are in the history.');

const root = document.documentElement;

function setStatus(text) {
  const status = byId('connection-status');
  if (status && status.textContent !== text) status.textContent = text;
}

export function closeComposer() {
  stopReading();
  root.classList.remove('stream-open');
  root.classList.add('stream-closed');
  setStatus('');
  const composer = byId('composer');
  if (!composer) return;
  const hadFocus = composer.contains(document.activeElement);
  composer.classList.add('is-closed');
  for (const control of composer.querySelectorAll('textarea, button, input:not([type="hidden"])')) {
    control.disabled = true;
  }
  composer.hidden = true; // nobody types into a room they can no longer post in
  const notice = byId('composer-notice');
  if (notice) notice.hidden = true;
  // Focus was in the composer that just went away: put it on the notice that says why (after the
  // notice itself has been swapped in, by the same event).
  const streamNotice = byId('stream-notice');
  if (hadFocus && streamNotice) {
    streamNotice.setAttribute('tabindex', '-1');
    setTimeout(() => streamNotice.focus(), 50);
  }
}

export function start() {
  const body = document.body;
  let connected = false;
  let downTimer = null;
  let downShown = false;
  let statusTimer = null;

  body.addEventListener('htmx:sseOpen', () => {
    connected = true;
    root.classList.add('stream-open');
    if (downTimer) { clearTimeout(downTimer); downTimer = null; }
    if (downShown) {
      downShown = false;
      if (statusTimer) clearTimeout(statusTimer);
      setStatus(BACK());
      announcer.notice(BACK(), 'connection');
      statusTimer = setTimeout(() => { statusTimer = null; setStatus(''); }, 4000);
    }
  });

  body.addEventListener('htmx:sseError', () => {
    connected = false;
    root.classList.remove('stream-open');
    if (root.classList.contains('stream-closed') || downTimer || downShown) return;
    downTimer = setTimeout(() => {
      downTimer = null;
      if (connected || root.classList.contains('stream-closed')) return;
      downShown = true;
      if (statusTimer) { clearTimeout(statusTimer); statusTimer = null; }
      setStatus(LOST());
      announcer.notice(LOST(), 'connection');
    }, DOWN_NOTICE_MS);
  });

  body.addEventListener('htmx:sseMessage', (event) => {
    const type = event.detail && event.detail.type;
    if (type === 'reload') location.reload();
    else if (type === 'close') closeComposer();
  });

  body.addEventListener('htmx:sseClose', (event) => {
    if (event.detail && event.detail.type === 'message') closeComposer();
  });

  body.addEventListener('htmx:responseError', (event) => {
    const xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 401) {
      location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    }
  });
}
