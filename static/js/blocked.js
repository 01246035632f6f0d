/* Messages from people the reader blocked are folded behind a "Show message from blocked user"
 * button: on the page, in history pages and as they arrive. The list of blocked usernames comes
 * from the page (<meta name="blocked-authors">), since messages are rendered once for every
 * reader. Pages fold the messages they render themselves (a <details>, which works without
 * script); this folds the rest: those the stream brings, and edited ones it replaces. */
import { t } from './i18n.js';

function blockedAuthors() {
  const meta = document.querySelector('meta[name="blocked-authors"]');
  return new Set(meta ? meta.content.split(' ').filter(Boolean) : []);
}

function fold(message, authors) {
  if (!authors.has(message.dataset.author) || message.querySelector(':scope > .show-blocked, :scope > .blocked-fold')) return;
  message.classList.add('blocked');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'show-blocked';
  button.setAttribute('aria-expanded', 'false');
  button.textContent = t('Show message from blocked user');
  button.addEventListener('click', () => {
    const shown = message.classList.toggle('revealed');
    button.setAttribute('aria-expanded', String(shown));
    button.textContent = shown ? t('Hide message from blocked user') : t('Show message from blocked user');
  });
  message.prepend(button);
}

function foldAll(root, authors) {
  root.querySelectorAll('li.message[data-author]').forEach((message) => fold(message, authors));
}

export function start() {
  const authors = blockedAuthors();
  if (!authors.size) return;
  foldAll(document, authors);
  // New, replaced and older messages arrive through htmx swaps.
  document.body.addEventListener('htmx:afterSettle', () => foldAll(document, authors));
  document.body.addEventListener('htmx:sseMessage', () => foldAll(document, authors));
}
