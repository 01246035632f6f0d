/* "Copy link" on a message: copies the message's permanent link and says so, once, politely.
 * Without script (or where the clipboard is refused) it is simply a link to that address, which
 * opens the room around the message and can be copied like any link.
 */
import { announcer } from './announcer.js';
import { t } from './i18n.js';

export function start() {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.act-link');
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    if (!navigator.clipboard || !window.isSecureContext) return; // follow the link instead
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(
      () => announcer.notice(t('Link copied'), 'copied'),
      () => { window.location.href = link.href; },
    );
  });
}
