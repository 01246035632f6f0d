/* A message from the room's stream. An id already shown (a replay after a reconnect) replaces
 * its item instead of being added twice; a new one is shown in local time and in its day, keeps
 * the reading position (position.js), is said by the announcer if it is from someone else and
 * the reader's setting asks for it (never history loads or replays), and moves the read marker.
 */
import { announcer } from './announcer.js';
import { byId, currentUser, messageIdIn, parseFirst, squash } from './dom.js';
import { decorate } from './days.js';
import { rememberFocus, restoreFocus } from './focus.js';
import { t } from './i18n.js';
import { afterArrival, beforeArrival } from './position.js';
import { scheduleRead } from './read.js';
import { localizeTimes } from './times.js';

const ANNOUNCE_MAX = 300;

function shouldAnnounce(li) {
  if (!li || li.hasAttribute('data-replayed')) return false;
  const me = currentUser().toLowerCase();
  const author = (li.getAttribute('data-author') || '').toLowerCase();
  if (me && author === me) return false;
  const setting = document.body.getAttribute('data-announce') || 'all';
  if (setting === 'none') return false;
  if (setting === 'mentions') {
    return !!me && (li.getAttribute('data-mentions') || '').split(/\s+/).includes(me);
  }
  return true;
}

function announce(li) {
  if (!shouldAnnounce(li)) return;
  const name = squash(li.querySelector('.meta .author')?.textContent);
  const username = li.getAttribute('data-author') || '';
  let text = squash(li.querySelector('.body')?.textContent);
  if (text.length > ANNOUNCE_MAX) text = text.slice(0, ANNOUNCE_MAX - 1).trim() + '…';
  // The @username always goes with the name: a display name alone can be anyone's.
  announcer.message(name || username, name ? t('%(name)s @%(username)s: %(text)s', { name, username, text })
                                            : t('@%(username)s: %(text)s', { username, text }));
}

export function start() {
  const list = byId('messages');
  if (!list) return;
  let wasAtEnd = true;

  list.addEventListener('htmx:sseBeforeMessage', (event) => {
    const detail = event.detail;
    if (event.target !== list || !detail || detail.type !== 'message') return;
    wasAtEnd = beforeArrival();
    const id = messageIdIn(detail.data);
    const existing = id ? byId(id) : null;
    if (!existing) return;
    event.preventDefault();
    if (existing.querySelector('form')) return; // the reader is using that form (editing, deleting)
    const fresh = parseFirst(detail.data, 'li[id^="m-"]');
    if (!fresh) return;
    rememberFocus(existing);
    existing.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    localizeTimes(fresh);
    restoreFocus(fresh);
  });

  list.addEventListener('htmx:sseMessage', (event) => {
    const detail = event.detail;
    if (event.target !== list || !detail) return;
    const id = messageIdIn(detail.data);
    const li = id ? byId(id) : null;
    if (!li) return;
    localizeTimes(li);
    decorate();
    afterArrival(li, wasAtEnd);
    announce(li);
    scheduleRead();
  });
}
