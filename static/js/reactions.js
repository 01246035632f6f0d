/* Reactions, per reader: the message fragments are the same for everyone, so this module says
 * which reactions are the reader's own (aria-pressed) and names them "thumbs up: Ana, Ben and
 * you" from each button's data-people, whenever reactions appear (page load, a history page, an
 * update from the stream). A refused reaction (too many different ones, a deleted message) is
 * shown beside the composer and said once.
 * Without script the buttons still toggle (a form post), named without the "you".
 */
import { announcer } from './announcer.js';
import { byId, currentUser, parseFirst, sentence, squash } from './dom.js';
import { joinNames, t } from './i18n.js';

function resolve(button) {
  let people;
  try {
    people = JSON.parse(button.getAttribute('data-people') || '[]');
  } catch {
    return;
  }
  const me = currentUser().toLowerCase();
  const mine = people.some(([username]) => username.toLowerCase() === me);
  const others = people.filter(([username]) => username.toLowerCase() !== me).map(([, name]) => name);
  if (mine) others.push(t('you'));
  button.setAttribute('aria-pressed', mine ? 'true' : 'false');
  button.setAttribute('aria-label', t('%(reaction)s: %(people)s', {
    reaction: button.getAttribute('data-emoji-name') || '', people: joinNames(others) }));
  button.setAttribute('data-resolved', '');
}

function resolveAll() {
  for (const button of document.querySelectorAll('button.reaction:not([data-resolved])')) resolve(button);
}

function isReaction(detail) {
  const path = (detail && detail.requestConfig && detail.requestConfig.path) || '';
  return /\/messages\/\d+\/reactions$/.test(path);
}

export function start() {
  resolveAll();
  for (const name of ['htmx:load', 'htmx:oobAfterSwap', 'htmx:afterSettle', 'htmx:sseMessage']) {
    document.body.addEventListener(name, resolveAll);
  }
  document.body.addEventListener('htmx:afterRequest', (event) => {
    const detail = event.detail || {};
    const status = detail.xhr ? detail.xhr.status : 0;
    if (!isReaction(detail) || status < 400 || status === 401) return;
    const box = parseFirst(detail.xhr.responseText || '', '.error-summary');
    const text = box ? squash([...box.querySelectorAll('h2, p')].map((p) => sentence(p.textContent)).join(' ')) : '';
    const notice = byId('composer-notice');
    if (notice && box) notice.replaceChildren(box);
    announcer.notice(text || t('The reaction was not given. Try again.'), 'reaction');
  });
}
