/* In a room, the reader's list of rooms is one stop in the Tab order, however many rooms they
 * are in: one link at a time (the current room's, until the reader moves) is focusable, and the
 * arrow keys move between the links (Up, Down, Home, End; "Mentions and replies" first). So the
 * composer is as many Tab presses from the top of the page with fifty rooms as with one.
 * Without script, and on the list of rooms page, every link is in the Tab order.
 */
import { byId } from './dom.js';

let activeHref = null; // the link the reader moved to (else the current room's)

function links(nav) {
  return [...nav.querySelectorAll('#mentions-link a[href], #room-list a[href]')];
}

function refresh(nav) {
  const all = links(nav);
  const active = all.find((a) => a.getAttribute('href') === activeHref)
    || all.find((a) => a.getAttribute('aria-current') === 'page') || all[0];
  for (const a of all) {
    const want = a === active ? '0' : '-1';
    if (a.getAttribute('tabindex') !== want) a.setAttribute('tabindex', want);
  }
}

export function start() {
  const nav = byId('room-nav');
  if (!nav || !document.body.classList.contains('room-page')) return;
  refresh(nav);
  // Rooms come, go and move (new rooms, counts that reorder the list), and the mentions link is
  // swapped anew when its count changes: the one stop stays one.
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; refresh(nav); });
  }).observe(nav, { childList: true, subtree: true });
  nav.addEventListener('focusin', (event) => {
    const a = event.target.closest('a[href]');
    if (a && links(nav).includes(a)) {
      activeHref = a.getAttribute('href');
      refresh(nav);
    }
  });
  nav.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const all = links(nav);
    const here = all.indexOf(event.target);
    if (here < 0) return;
    let next = null;
    switch (event.key) {
      case 'ArrowDown': next = all[here + 1]; break;
      case 'ArrowUp': next = all[here - 1]; break;
      case 'Home': next = all[0]; break;
      case 'End': next = all[all.length - 1]; break;
      default: return;
    }
    event.preventDefault();
    if (next) next.focus();
  });
}
