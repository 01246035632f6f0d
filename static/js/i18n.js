/* The scripts' words in the page's language. Every user-visible or spoken string is marked
 * `t('…')` (or `nt('…', '…', n)` where it counts something), with `%(name)s` placeholders, whole
 * sentences only (each language orders its own words). `python -m webchat translations` extracts
 * them into the same catalog as the templates'; the server puts the page's language's
 * translations of exactly these strings into the page as JSON (templates/_script_strings.html,
 * data, not code); a string without one is the English msgid.
 *
 *   t('Connection lost.')                              // 'ขาดการเชื่อมต่อ'
 *   t('Use %(zone)s', { zone })                        // placeholders filled in after translation
 *   nt('%(num)s file added', '%(num)s files added', 3) // `num` is the count unless given
 */

let table = null;

function strings() {
  if (table) return table;
  table = { language: document.documentElement.lang || 'en', plural: ['one', 'other'], messages: {} };
  const data = document.getElementById('script-strings');
  if (data) {
    try {
      const parsed = JSON.parse(data.textContent || '{}');
      if (parsed && typeof parsed === 'object') {
        if (parsed.messages && typeof parsed.messages === 'object') table.messages = parsed.messages;
        if (Array.isArray(parsed.plural) && parsed.plural.length) table.plural = parsed.plural;
        if (parsed.language) table.language = parsed.language;
      }
    } catch (e) {
      // Broken data: English, the msgids, rather than nothing.
    }
  }
  return table;
}

/** The data's key for a msgid (webchat.script_strings.key): FNV-1a, 32 bits, of its UTF-8, in
 * hexadecimal; the page carries no English, not even as keys. */
const encoder = new TextEncoder();
const keys = new Map();

function key(msgid) {
  let found = keys.get(msgid);
  if (found !== undefined) return found;
  let value = 0x811c9dc5;
  for (const byte of encoder.encode(msgid)) value = Math.imul(value ^ byte, 0x01000193) >>> 0;
  found = value.toString(16);
  keys.set(msgid, found);
  return found;
}

/** The page's language ("en", "th"): what Intl is asked to format in. */
export function language() {
  return strings().language;
}

function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/%\((\w+)\)s|%%/g, (match, name) => {
    if (match === '%%') return '%';
    return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : match;
  });
}

/** The translation of `msgid` with its `%(name)s` placeholders filled from `vars`. */
export function t(msgid, vars) {
  const found = strings().messages[key(msgid)];
  return fill(typeof found === 'string' && found ? found : msgid, vars);
}

let rules = null;

/** Which of the language's gettext forms a count takes (English: 1 → 0, else 1; Thai: 0). */
function formIndex(n) {
  const { plural, language: lang } = strings();
  let category = 'other';
  try {
    if (!rules) rules = new Intl.PluralRules(lang);
    category = rules.select(n);
  } catch (e) {
    category = n === 1 ? 'one' : 'other';
  }
  const index = plural.indexOf(category);
  return index >= 0 ? index : plural.length - 1;
}

/** The form of `singular`/`plural` for the count `n`, filled from `vars` (and `num`: n). */
export function nt(singular, plural, n, vars) {
  const values = Object.assign({ num: n }, vars || {});
  const forms = strings().messages[key(singular)];
  if (Array.isArray(forms) && forms.length) {
    return fill(forms[Math.min(formIndex(n), forms.length - 1)] || (n === 1 ? singular : plural), values);
  }
  return fill(n === 1 ? singular : plural, values);
}

/** A list of names joined as the language joins them: "Ana, Ben and Cleo" ("Ana, Ben และ Cleo"). */
export function joinNames(names) {
  if (names.length <= 1) return names.join('');
  if (names.length === 2) return t('%(first)s and %(second)s', { first: names[0], second: names[1] });
  return t('%(list)s and %(last)s', { list: names.slice(0, -1).join(', '), last: names[names.length - 1] });
}
