/* Local times: the server writes a page's times in the reader's zone and clock when they chose one
 * (and UTC, labelled, otherwise, and always in the live stream); this shows them in the reader's zone, in
 * message headers, read markers, search results and the edit and delete pages, and in the sentence a screen
 * reader says for a message ("Ana Lima @ana, 6:40 PM: …"). Also the words for a day ("Today",
 * "Yesterday", a date), for the day headings of the history (days.js).
 *
 * Always in the page's language, with Intl's own calendar for it: in Thai the Buddhist era
 * ("30 พ.ย. 2569 18:40"), as webchat/clock.py writes it too, so that with a zone chosen the page
 * reads exactly the same with and without script.
 */
import { language, t } from './i18n.js';

const TIME_SELECTOR = '.meta time[datetime], .read-list time[datetime], .message-source time[datetime], .result-meta time[datetime]';

/* The reader's setting (on /settings), from <body data-time-zone data-clock>: with one, the page's
 * language and that zone and clock, which the server used for the page too (webchat/clock.py), so
 * both agree; without one, the browser's own zone and clock, in the page's language (as the
 * browser's own variant of it names it: "en-GB" on an English page, for its 24-hour clock). */
let reader = null;

function browserVariant(page) {
  const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''])
    .find((tag) => tag && tag.toLowerCase().split('-')[0] === page);
  return wanted || page;
}

export function readerTime() {
  if (reader) return reader;
  const body = document.body;
  const zone = (body && body.getAttribute('data-time-zone')) || undefined;
  const clock = (body && body.getAttribute('data-clock')) || '';
  const page = language();
  reader = {
    zone,
    locale: zone || clock ? page : browserVariant(page),
    hourCycle: clock === '12' ? 'h12' : clock === '24' ? 'h23' : undefined,
  };
  return reader;
}

// Some versions of Intl put a narrow no-break space before "AM"/"PM"; the server writes a space.
const plain = (text) => text.replace(/[\u202f\u00a0]/g, ' ');

let dayFormat = null;

/** The reader's calendar day of a moment, as YYYY-MM-DD (in their zone when they set one). */
export function dayKey(date) {
  const pad = (n) => String(n).padStart(2, '0');
  const { zone } = readerTime();
  if (zone) {
    try {
      if (!dayFormat) {
        dayFormat = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
      }
      const parts = {};
      for (const part of dayFormat.formatToParts(date)) parts[part.type] = part.value;
      return parts.year + '-' + parts.month + '-' + parts.day;
    } catch (e) {
      // An unknown zone: the browser's own days.
    }
  }
  return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
}

/** The day before a YYYY-MM-DD day, as YYYY-MM-DD. */
function dayBefore(key) {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

function withReader(options) {
  const { zone, hourCycle } = readerTime();
  if (zone) options.timeZone = zone;
  if (hourCycle && 'hour' in options) options.hourCycle = hourCycle;
  return options;
}

export function formatLocal(date) {
  const now = new Date();
  const options = { hour: 'numeric', minute: '2-digit' };
  const day = dayKey(date);
  const today = dayKey(now);
  if (day !== today) {
    options.month = 'short';
    options.day = 'numeric';
    if (day.slice(0, 4) !== today.slice(0, 4)) options.year = 'numeric';
  }
  try {
    return plain(date.toLocaleString(readerTime().locale, withReader(options)));
  } catch (e) {
    return date.toLocaleString();
  }
}

/** "Today", "Yesterday", or the date in full ("Monday, November 30, 2026"). */
export function dayLabel(date) {
  const day = dayKey(date);
  const today = dayKey(new Date());
  if (day === today) return t('Today');
  if (day === dayBefore(today)) return t('Yesterday');
  const options = { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' };
  try {
    return plain(date.toLocaleDateString(readerTime().locale, withReader(options)));
  } catch (e) {
    return date.toDateString();
  }
}

// The server writes the sentence with the time as the header shows it ("NAME @USERNAME, TIME: TEXT"
// in English; each language orders its own): the first time of it there, after the name.
function localizeSentence(li, utc, local) {
  const said = li.querySelector('.said');
  const author = li.querySelector('.meta .author');
  if (!said || !author || !utc) return;
  const text = said.textContent;
  const after = text.indexOf('@' + (li.getAttribute('data-author') || ''));
  const at = text.indexOf(utc, Math.max(0, after));
  if (after < 0 || at < 0) return;
  said.textContent = text.slice(0, at) + local + text.slice(at + utc.length);
}

export function localizeTimes(scope) {
  if (!scope || !scope.querySelectorAll) return;
  const times = [...scope.querySelectorAll(TIME_SELECTOR)];
  if (scope.matches && scope.matches(TIME_SELECTOR)) times.push(scope);
  for (const time of times) {
    if (time.hasAttribute('data-local')) continue;
    const date = new Date(time.getAttribute('datetime'));
    if (isNaN(date.getTime())) continue;
    const utc = time.textContent.trim(); // e.g. "2026-11-30 18:40 UTC", or the reader's time already
    const local = formatLocal(date);
    time.textContent = local;
    time.setAttribute('data-local', '');
    const li = time.closest('li.message');
    if (li) {
      // Hidden from screen readers (they hear the sentence), so a title adds no second reading.
      if (!time.title && / UTC$/.test(utc)) time.title = utc;
      localizeSentence(li, utc, local);
    }
  }
}

export function start() {
  localizeTimes(document);
  // Whatever htmx brings in later: history pages, read markers, edits, forms.
  document.addEventListener('htmx:load', (event) => localizeTimes(event.target));
}
