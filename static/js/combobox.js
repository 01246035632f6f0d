/* Fields that name a person (input[data-suggest]) suggest people as you type: an ARIA combobox
 * with a listbox of options. htmx fetches the options (/people/suggest, as the field's hx-get
 * says) into the list; this does the rest of the pattern: Down and Up move through the options
 * (aria-activedescendant), Enter or a click takes one (the field gets its "@username"), Escape
 * closes the list, leaving the field closes it. Without script the field is a plain text field,
 * and a name that means several people brings the form back with them to choose from. */
import { announcer } from './announcer.js';
import { nt, t } from './i18n.js';

function enhance(input) {
  const list = document.getElementById(input.getAttribute('data-suggest'));
  if (!list) return;
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');
  let active = -1;

  const options = () => [...list.querySelectorAll('[role="option"]')];

  function setActive(index) {
    const all = options();
    active = all.length ? (index + all.length) % all.length : -1;
    all.forEach((option, i) => option.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', all[active].id);
      all[active].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function show(open) {
    const has = options().length > 0;
    open = open && has;
    list.hidden = !open;
    input.setAttribute('aria-expanded', String(open));
    if (!open) setActive(-1);
  }

  function choose(option) {
    input.value = option.getAttribute('data-value') || option.textContent.trim();
    show(false);
    input.focus();
  }

  list.addEventListener('htmx:afterSwap', () => {
    active = -1;
    const count = options().length;
    show(document.activeElement === input);
    if (document.activeElement === input && input.value.trim()) {
      announcer.notice(count ? nt('%(num)s suggestion: use the arrow keys', '%(num)s suggestions: use the arrow keys', count)
                             : t('No suggestions'), 'suggestions');
    }
  });
  // A click on an option must not take focus from the field first.
  list.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) choose(option);
  });
  input.addEventListener('blur', () => show(false));
  input.addEventListener('keydown', (event) => {
    const open = !list.hidden;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) show(true);
        setActive(active + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (!open) show(true);
        setActive(active - 1);
        break;
      case 'Enter':
        if (open && active >= 0) {
          event.preventDefault();
          choose(options()[active]);
        }
        break;
      case 'Escape':
        if (open) {
          event.preventDefault();
          show(false);
        }
        break;
      default:
    }
  });
}

export function start() {
  for (const input of document.querySelectorAll('input[data-suggest]')) enhance(input);
}
