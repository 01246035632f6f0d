/* The reader's list of rooms, live. Counts are worked out here as latest minus read, from the
 * shared <data id="latest-N"> and the reader's own <data id="read-N"> (updated by `unread`
 * events); the open room, being read, counts nothing while the page is visible. A `rooms` event
 * adds a room to the list (in order), renames one or takes one away (see webchat/live/publish.py).
 * The document's title carries the total: "(3) General · webchat".
 */
import { byId, currentRoom, isVisible } from './dom.js';
import { nt } from './i18n.js';

function dataValue(id) {
  const el = byId(id);
  if (!el) return null;
  const n = parseInt(el.getAttribute('value'), 10);
  return isNaN(n) ? null : n;
}

// The page's own title, to which the total unread count is prefixed: "(3) General · webchat".
let baseTitle = null;

/** The total in the document's title: seen in the tab strip and window lists, announced nowhere
 * (the title is no live region; screen readers read it when asked). */
function showTotal(total) {
  if (baseTitle === null) baseTitle = document.title.replace(/^\(\d+\) /, '');
  const title = total > 0 ? '(' + total + ') ' + baseTitle : baseTitle;
  if (document.title !== title) document.title = title;
}

export function updateCounts() {
  const room = currentRoom();
  let total = 0;
  let counted = false;
  for (const badge of document.querySelectorAll('[id^="unread-"]')) {
    const id = badge.id.slice('unread-'.length);
    const latest = dataValue('latest-' + id);
    const read = dataValue('read-' + id);
    if (latest === null || read === null) continue;
    let count = latest - read;
    if (room && id === room && isVisible()) count = 0;
    const text = count > 0 ? nt('%(num)s unread', '%(num)s unread', count) : '';
    if (badge.textContent !== text) badge.textContent = text;
    if (count > 0 && !badge.closest('[hidden]')) total += count;
    counted = true;
  }
  if (counted) showTotal(total);
}

function place(list, entry) {
  const key = entry.getAttribute('data-sort') || '';
  const after = [...list.children].find((li) => li !== entry && (li.getAttribute('data-sort') || '') > key);
  if (after) {
    if (entry.nextElementSibling !== after) list.insertBefore(entry, after);
  } else if (list.lastElementChild !== entry) {
    list.append(entry);
  }
}

function markCurrent(entry) {
  const room = currentRoom();
  const link = entry.querySelector('a[href]');
  const current = !!room && entry.id === 'nav-room-' + room;
  entry.classList.toggle('current', current);
  if (link) {
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
}

/** Apply a `rooms` event's entries to the list. */
function applyRooms(html) {
  const list = byId('room-list');
  if (!list) return;
  const template = document.createElement('template');
  template.innerHTML = html || '';
  for (const incoming of template.content.querySelectorAll('li[id^="nav-room-"]')) {
    const existing = byId(incoming.id);
    const update = incoming.getAttribute('data-update');
    if (update === 'remove') {
      if (existing && !existing.contains(document.activeElement)) existing.remove();
      else if (existing) existing.hidden = true; // not from under the reader's focus
      continue;
    }
    if (update === 'name') {
      if (!existing) continue;
      // The name only (its first text): the spoken comma before the count stays.
      const name = existing.querySelector('.room-name');
      const fresh = incoming.querySelector('.room-name');
      if (name && fresh && name.firstChild) name.firstChild.textContent = fresh.textContent;
      existing.setAttribute('data-sort', incoming.getAttribute('data-sort') || '');
      place(list, existing);
      continue;
    }
    if (existing) {
      // Known already (another tab joined it, say): keep the element (and any focus in it).
      existing.hidden = false;
      existing.setAttribute('data-sort', incoming.getAttribute('data-sort') || '');
      // Its notification level too (set in this tab or another; see notifications.js).
      existing.setAttribute('data-notify', incoming.getAttribute('data-notify') || 'all');
      existing.replaceChildren(...incoming.childNodes);
      markCurrent(existing);
      place(list, existing);
    } else {
      const entry = document.importNode(incoming, true);
      markCurrent(entry);
      place(list, entry);
    }
  }
  updateCounts();
}

export function start() {
  updateCounts();
  const events = byId('room-list-events');
  if (events) {
    events.addEventListener('htmx:sseBeforeMessage', (event) => {
      if (event.target !== events) return;
      event.preventDefault(); // applied here: htmx has no "insert in order" swap
      applyRooms(event.detail && event.detail.data);
    });
  }
  const nav = byId('room-nav');
  if (nav) {
    // A shared `unread` event (latest-N) or the reader's own (read-N) was swapped in.
    nav.addEventListener('htmx:oobAfterSwap', () => updateCounts());
    nav.addEventListener('htmx:sseMessage', () => updateCounts());
  }
  document.addEventListener('visibilitychange', updateCounts);
}
