/* Up arrow in an empty composer opens the reader's last message in the room (not deleted) for
 * editing, in place, as its Edit does; focus goes to the edit field. Escape (or saving) puts the
 * message back and focus back in the composer. With text in the composer, or any modifier,
 * the key is the composer's own: nothing happens here.
 */
import { byId, caretToEnd, currentUser } from './dom.js';

let openedFrom = null; // the id of the message opened from the composer ("m-12")
// Whether its edit form has arrived: until then, other swaps settling (a stream's event, a typing
// line) say nothing about it, and must not be taken for the edit being over.
let formShown = false;

function lastOwn() {
  const me = currentUser();
  const list = byId('messages');
  if (!me || !list) return null;
  const mine = [...list.querySelectorAll(':scope > li.message:not(.deleted):not(.editing)')]
    .filter((li) => li.getAttribute('data-author') === me);
  return mine[mine.length - 1] || null;
}

export function start() {
  const field = byId('composer-body');
  const list = byId('messages');
  if (!field || !list) return;
  field.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowUp' || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.defaultPrevented || event.isComposing || field.value !== '') return;
    const li = lastOwn();
    const edit = li && li.querySelector('a.act-own[hx-get]');
    if (!edit) return;
    event.preventDefault();
    openedFrom = li.id;
    formShown = false;
    // A message that has only just arrived may not have been processed by htmx yet: its Edit
    // would then be followed as a plain link, leaving the room for the edit page.
    if (window.htmx) window.htmx.process(li);
    edit.click();
  });
  document.addEventListener('htmx:afterSettle', () => {
    if (!openedFrom) return;
    const li = byId(openedFrom);
    if (!li) { openedFrom = null; return; }
    const editing = li.querySelector('#edit-body');
    if (editing) {
      formShown = true;
      if (document.activeElement !== editing && !li.contains(document.activeElement)) {
        editing.focus();
        caretToEnd(editing);
      }
      return;
    }
    if (!formShown) return; // the form is still on its way
    if (li.classList.contains('confirming')) return; // asked to delete: still in the message
    // Back to the message (cancelled or saved): back to the composer.
    openedFrom = null;
    const composer = byId('composer-body');
    if (composer) composer.focus();
  });
}
