/* Typing: #typing shows who is typing, but is not a live region. When the reader has asked for
 * it (Settings), a person is announced once when they start typing, never again while they keep
 * typing (they stay in the list), and not at all if they stopped before their turn. */
import { announcer } from './announcer.js';
import { byId, squash } from './dom.js';
import { joinNames, nt } from './i18n.js';

function readTypers(el) {
  const found = new Map();
  for (const typer of el.querySelectorAll('data.typer[value]')) {
    found.set(typer.getAttribute('value'), squash(typer.getAttribute('data-name')));
  }
  return found;
}

function sentence(names) {
  if (!names.length) return '';
  return nt('%(names)s is typing', '%(names)s are typing', names.length, { names: joinNames(names) });
}

export function start() {
  const el = byId('typing');
  if (!el) return;
  let now = readTypers(el); // user id -> display name, as #typing last showed
  el.addEventListener('htmx:sseMessage', () => {
    const before = now;
    now = readTypers(el);
    if (document.body.getAttribute('data-announce-typing') !== 'on') return;
    const started = [...now.keys()].filter((id) => !before.has(id));
    if (!started.length) return;
    announcer.notice(() => sentence(started.filter((id) => now.has(id)).map((id) => now.get(id))));
  });
}
