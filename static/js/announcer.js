/* The announcer: one polite live region (#announcer), separate from the history, fed through a
 * queue. It is the only thing on a page that speaks.
 *
 * It speaks at most once a second, so nothing piles up in a screen reader's speech queue; when
 * more than three messages wait, it sums them up in one sentence ("5 new messages from Ana Lima
 * and Ben Okafor"); a notice whose news is stale by its turn (someone who has stopped typing) is
 * dropped; an empty string is never spoken. What it says stays in the region for a few seconds
 * (for a reader who moves to it), then is removed, which is not announced.
 *
 *   announcer.message('Ana Lima', 'Ana Lima @ana: Good morning');   // summed up in a burst
 *   announcer.notice('Connection lost. …', 'connection');  // a later notice of a key replaces a waiting one
 *   announcer.notice(() => stillTrue ? 'Ana Lima is typing' : '');
 */

import { joinNames, nt, t } from './i18n.js';

export function createAnnouncer(region, options = {}) {
  const interval = options.interval || 1000; // ms between two utterances, at least
  const most = options.most || 3;            // more messages than this waiting: one summary
  const keep = options.keep || 7000;         // ms an utterance stays in the region
  let queue = [];
  let timer = null;
  let clearTimer = null;
  let lastSpoke = -Infinity;

  function authorsOf(names) {
    if (names.length > 3) {
      return nt('%(first)s, %(second)s and %(num)s other', '%(first)s, %(second)s and %(num)s others',
        names.length - 2, { first: names[0], second: names[1] });
    }
    return joinNames(names);
  }

  function summarize(messages) {
    const authors = [];
    for (const item of messages) {
      if (!authors.includes(item.author)) authors.push(item.author);
    }
    return t('%(count)s new messages from %(authors)s', { count: messages.length, authors: authorsOf(authors) });
  }

  function speak(text) {
    const p = document.createElement('p');
    p.textContent = text;
    region.replaceChildren(p);
    if (clearTimer) clearTimeout(clearTimer);
    clearTimer = setTimeout(() => {
      clearTimer = null;
      if (p.parentNode === region) region.removeChild(p);
    }, keep);
  }

  function nextText() {
    const messages = queue.filter((item) => item.author !== undefined);
    if (messages.length > most) {
      queue = queue.filter((item) => item.author === undefined);
      return summarize(messages);
    }
    while (queue.length) {
      const item = queue.shift();
      let text = typeof item.text === 'function' ? item.text() : item.text;
      text = (text || '').replace(/\s+/g, ' ').trim();
      if (text) return text;
    }
    return '';
  }

  function drain() {
    timer = null;
    const text = nextText();
    if (text) {
      speak(text);
      lastSpoke = Date.now();
    }
    if (queue.length) schedule();
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(drain, Math.max(0, lastSpoke + interval - Date.now()));
  }

  function push(item) {
    if (item.key) queue = queue.filter((waiting) => waiting.key !== item.key);
    queue.push(item);
    schedule();
  }

  return {
    message(author, text) { push({ author: author || '', text }); },
    notice(text, key) { push({ text, key }); },
  };
}

const region = document.getElementById('announcer');

/** The page's one announcer (a silent stand-in on pages without the region). */
export const announcer = region
  ? createAnnouncer(region)
  : { message() {}, notice() {} };
