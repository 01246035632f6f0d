/* @name suggestions in the composer. Typing "@an" lists members of the room whose username or
 * name starts with "an" (at most eight, from /rooms/ID/members/suggest), under the composer: Down
 * and Up move through them (aria-activedescendant), Enter or Tab takes one ("@username " replaces
 * what was typed), Escape closes the list, and how many there are is said through the page's one
 * announcer. While the list is closed no key is taken: Enter still sends, Up still does what the
 * composer does with it. Without script nothing changes: you type the name. */
import { announcer } from './announcer.js';
import { byId } from './dom.js';
import { nt, t } from './i18n.js';

const TYPED = /(^|[^\w@.\-])@([A-Za-z0-9_.\-]{0,32})$/;

function roomOf(form) {
  const match = (form.getAttribute('action') || '').match(/^\/rooms\/(\d+)\//);
  return match ? match[1] : null;
}

export function start() {
  const form = byId('composer');
  const field = byId('composer-body');
  if (!form || !field) return;
  const room = roomOf(form);
  if (!room) return;
  const list = document.createElement('ul');
  list.id = 'mention-options';
  list.className = 'suggestions mention-suggestions';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', t('People to mention'));
  list.hidden = true;
  field.after(list);
  field.setAttribute('aria-autocomplete', 'list');
  field.setAttribute('aria-controls', list.id);

  let active = -1;
  let typed = null; // { start, end } of the "@name" being typed
  let asked = 0;
  let lastQuery = null;

  const options = () => [...list.querySelectorAll('[role="option"]')];
  const isOpen = () => !list.hidden;

  function setActive(index) {
    const all = options();
    active = all.length ? (index + all.length) % all.length : -1;
    all.forEach((option, i) => option.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) {
      field.setAttribute('aria-activedescendant', all[active].id);
      all[active].scrollIntoView({ block: 'nearest' });
    } else {
      field.removeAttribute('aria-activedescendant');
    }
  }

  function close() {
    list.hidden = true;
    typed = null;
    lastQuery = null;
    setActive(-1);
  }

  function choose(option) {
    if (!typed) return close();
    const name = option.getAttribute('data-value');
    const before = field.value.slice(0, typed.start);
    const after = field.value.slice(typed.end);
    const insert = '@' + name + ' ';
    field.value = before + insert + after.replace(/^ /, '');
    const caret = before.length + insert.length;
    field.setSelectionRange(caret, caret);
    close();
    field.focus();
    announcer.notice(t('@%(username)s inserted', { username: name }), 'suggestions');
    field.dispatchEvent(new CustomEvent('webchat:composer-changed', { bubbles: true }));
  }

  async function suggest() {
    const caret = field.selectionStart;
    if (caret !== field.selectionEnd) return close();
    const match = field.value.slice(0, caret).match(TYPED);
    if (!match || match[2].length === 0) return close();
    typed = { start: caret - match[2].length - 1, end: caret };
    const query = match[2];
    if (query === lastQuery) return;
    lastQuery = query;
    const ticket = ++asked;
    let html = '';
    try {
      const response = await fetch('/rooms/' + room + '/members/suggest?q=' + encodeURIComponent(query),
        { headers: { 'HX-Request': 'true' }, credentials: 'same-origin' });
      if (!response.ok) return;
      html = await response.text();
    } catch (error) {
      return; // no suggestions: the name can still be typed
    }
    if (ticket !== asked || !typed) return; // a newer question, or closed meanwhile
    const template = document.createElement('template');
    template.innerHTML = html;
    list.replaceChildren(...template.content.querySelectorAll('li[role="option"]'));
    const count = options().length;
    list.hidden = count === 0 || document.activeElement !== field;
    setActive(count ? 0 : -1);
    announcer.notice(count ? nt('%(num)s person to mention: Down and Up to choose, Enter or Tab to insert',
                                '%(num)s people to mention: Down and Up to choose, Enter or Tab to insert', count)
                           : t('Nobody in this room by that name'), 'suggestions');
  }

  field.addEventListener('input', () => { suggest(); });
  field.addEventListener('blur', () => close());
  list.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) choose(option);
  });
  // On the field itself, before the composer's own keys (on the page's main): only while open.
  field.addEventListener('keydown', (event) => {
    if (!isOpen() || event.isComposing) return;
    const take = () => { event.preventDefault(); event.stopPropagation(); };
    switch (event.key) {
      case 'ArrowDown': take(); setActive(active + 1); break;
      case 'ArrowUp': take(); setActive(active - 1); break;
      case 'Enter':
      case 'Tab':
        if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || active < 0) return;
        take();
        choose(options()[active]);
        break;
      case 'Escape': take(); close(); break;
      default:
    }
  });
}
