/* Editing in place, with the composer's keys: Enter saves, Shift+Enter starts a new line (on a
 * touch screen Enter starts a new line and "Save changes" saves), Escape cancels; cancelling or
 * saving puts focus back on the message (focus.js). Deleting asks once, in place: Escape there
 * cancels too. On the edit page (no message to go back to) Escape follows its Cancel link. */
import { coarsePointer, submit } from './dom.js';
import { t } from './i18n.js';

const HINT_KEYS = () => t('Enter saves. Shift+Enter starts a new line. Escape cancels.');
const HINT_TOUCH = () => t('Enter starts a new line. Use Save changes to save.');

function writeHints(scope) {
  for (const hint of scope.querySelectorAll('#edit-hint')) {
    const text = coarsePointer() ? HINT_TOUCH() : HINT_KEYS();
    if (hint.textContent !== text) hint.textContent = text;
  }
}

function cancel(from) {
  const li = from.closest('li.editing, li.confirming');
  const link = li ? li.querySelector('a.edit-cancel') : document.querySelector('main a[href*="#m-"]');
  if (link) link.click();
}

export function start() {
  const main = document.getElementById('main');
  if (!main) return;
  writeHints(main);
  main.addEventListener('htmx:load', (event) => writeHints(event.target.parentNode || event.target));

  main.addEventListener('keydown', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const inEdit = target.id === 'edit-body';
    const inQuestion = !!target.closest('li.confirming');
    if (!inEdit && !inQuestion) return;
    if (event.key === 'Escape' && !event.isComposing) {
      event.preventDefault();
      cancel(target);
      return;
    }
    if (!inEdit || event.key !== 'Enter') return;
    if (event.shiftKey || event.altKey || event.isComposing || event.keyCode === 229 || coarsePointer()) return;
    event.preventDefault();
    if (target.form && target.value.trim()) submit(target.form);
  });
}
