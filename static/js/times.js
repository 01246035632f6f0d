/* Local times: the server writes every time in UTC; this shows them in the reader's own zone, in
 * message headers, read markers, search results and the edit and delete pages, and in the sentence a screen
 * reader says for a message ("Ana Lima @ana, 6:40 PM: …"). Also the words for a day ("Today",
 * "Yesterday", a date), for the day headings of the history (days.js).
 */

const TIME_SELECTOR = '.meta time[datetime], .read-list time[datetime], .message-source time[datetime], .result-meta time[datetime]';

function sameDay(a, b) { return a.toDateString() === b.toDateString(); }

export function formatLocal(date) {
  const now = new Date();
  const options = { hour: 'numeric', minute: '2-digit' };
  if (!sameDay(date, now)) {
    options.month = 'short';
    options.day = 'numeric';
    if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  }
  try {
    return date.toLocaleString(undefined, options);
  } catch (e) {
    return date.toLocaleString();
  }
}

/** The reader's calendar day of a moment, as YYYY-MM-DD. */
export function dayKey(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
}

/** "Today", "Yesterday", or the date in full ("Monday, November 30, 2026"). */
export function dayLabel(date) {
  const now = new Date();
  if (sameDay(date, now)) return 'Today';
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameDay(date, yesterday)) return 'Yesterday';
  const options = { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' };
  try {
    return date.toLocaleDateString(undefined, options);
  } catch (e) {
    return date.toDateString();
  }
}

// The server writes the sentence with the UTC time: "NAME @USERNAME, UTC…: TEXT".
function localizeSentence(li, utc, local) {
  const said = li.querySelector('.said');
  const author = li.querySelector('.meta .author');
  if (!said || !author) return;
  const head = author.textContent + ' @' + (li.getAttribute('data-author') || '') + ', ';
  const text = said.textContent;
  if (text.indexOf(head + utc) !== 0) return;
  said.textContent = head + local + text.slice(head.length + utc.length);
}

export function localizeTimes(scope) {
  if (!scope || !scope.querySelectorAll) return;
  const times = [...scope.querySelectorAll(TIME_SELECTOR)];
  if (scope.matches && scope.matches(TIME_SELECTOR)) times.push(scope);
  for (const time of times) {
    if (time.hasAttribute('data-local')) continue;
    const date = new Date(time.getAttribute('datetime'));
    if (isNaN(date.getTime())) continue;
    const utc = time.textContent.trim(); // e.g. "2026-11-30 18:40 UTC"
    const local = formatLocal(date);
    time.textContent = local;
    time.setAttribute('data-local', '');
    const li = time.closest('li.message');
    if (li) {
      // Hidden from screen readers (they hear the sentence), so a title adds no second reading.
      if (!time.title) time.title = utc;
      localizeSentence(li, utc, local);
    }
  }
}

export function start() {
  localizeTimes(document);
  // Whatever htmx brings in later: history pages, read markers, edits, forms.
  document.addEventListener('htmx:load', (event) => localizeTimes(event.target));
}
