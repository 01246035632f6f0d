/* Each message's one actions control: a <details> disclosure ("Actions for Ana's message") whose
 * menu holds Reply, the quick reactions, More reactions, Copy link and, as they apply to the
 * reader, Edit or delete, Delete and Report. Without script it opens and closes by itself and
 * every action in it is a link or a form. With script: opening it puts focus on its first action;
 * the arrow keys (Up/Down, Left/Right, Home, End) move between the actions shown; Escape closes it
 * and puts focus back on its button; only one is open at a time, and a menu closes when focus
 * leaves its message.
 */
const MENU = 'details.msg-actions';

function actions(details) {
  return [...details.querySelectorAll('.menu a[href], .menu button')].filter((c) => c.getClientRects().length);
}

/** Open a message's actions menu and focus its first action. */
export function openMenu(details) {
  if (!details) return;
  details.open = true;
  const first = actions(details)[0];
  if (first) first.focus();
}

function closeMenu(details, focusButton) {
  details.open = false;
  if (focusButton) {
    const summary = details.querySelector('summary');
    if (summary) summary.focus();
  }
}

export function start() {
  const list = document.getElementById('messages');
  if (!list) return;
  let keyOpened = false; // the summary was opened from the keyboard: focus goes into the menu
  list.addEventListener('keydown', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const details = target.closest(MENU);
    if (!details || event.altKey || event.ctrlKey || event.metaKey) return;
    if (target.matches('summary')) {
      // Enter opens it here and now, focus in the menu: left to the browser, the menu opens by
      // a click and its focus waits for the `toggle` event, which a key typed at once (End, an
      // arrow) can overtake. Space opens on key up, by the browser.
      if (event.key === 'Enter' && !details.open) { event.preventDefault(); openMenu(details); return; }
      if (event.key === ' ') keyOpened = !details.open;
      if (event.key === 'ArrowDown' && details.open) { event.preventDefault(); openMenu(details); }
      if (event.key === 'Escape' && details.open) { event.preventDefault(); closeMenu(details, true); }
      return;
    }
    const all = actions(details);
    const here = all.indexOf(target);
    if (here < 0 && event.key !== 'Escape') return;
    let next = null;
    switch (event.key) {
      case 'ArrowDown': case 'ArrowRight': next = all[(here + 1) % all.length]; break;
      case 'ArrowUp': case 'ArrowLeft': next = all[(here - 1 + all.length) % all.length]; break;
      case 'Home': next = all[0]; break;
      case 'End': next = all[all.length - 1]; break;
      case 'Escape': event.preventDefault(); closeMenu(details, true); return;
      default: return;
    }
    event.preventDefault();
    if (next) next.focus();
  });
  list.addEventListener('toggle', (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.matches(MENU) || !details.open) return;
    for (const other of list.querySelectorAll(MENU + '[open]')) if (other !== details) other.open = false;
    if (keyOpened) { keyOpened = false; openMenu(details); }
  }, true);
  list.addEventListener('focusout', (event) => {
    const details = event.target instanceof Element ? event.target.closest(MENU + '[open]') : null;
    const to = event.relatedTarget;
    if (details && to instanceof Node && !details.closest('li').contains(to)) details.open = false;
  });
}
