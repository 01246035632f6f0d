/* On a narrow screen a room's list of rooms and its details fold away, behind the "Rooms" and
 * "Details" links of the room's header (webchat.css). Without script the links open them as the
 * page's target (:target); with it they are disclosure controls (aria-expanded): opening moves
 * focus to the panel's heading, Escape or "Back to the conversation" closes it and puts focus
 * back on its control. On a wide screen the panels are always shown and the controls hidden. */
import { byId } from './dom.js';

function controlsOf(id) {
  return [...document.querySelectorAll('[data-fold-open="' + id + '"]')];
}

function setOpen(panel, open) {
  panel.classList.toggle('is-open', open);
  for (const control of controlsOf(panel.id)) control.setAttribute('aria-expanded', String(open));
}

function close(panel, returnFocus) {
  if (!panel.classList.contains('is-open')) return;
  setOpen(panel, false);
  const control = controlsOf(panel.id).find((c) => c.getClientRects().length);
  if (returnFocus && control) control.focus();
}

function open(panel) {
  for (const other of document.querySelectorAll('.fold.is-open')) {
    if (other !== panel) setOpen(other, false);
  }
  setOpen(panel, true);
  const heading = panel.querySelector('h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

export function start() {
  for (const control of document.querySelectorAll('[data-fold-open]')) {
    const panel = byId(control.getAttribute('data-fold-open'));
    if (!panel) continue;
    // A disclosure control now (it was a link to the panel): a button, Space included.
    control.setAttribute('role', 'button');
    control.setAttribute('aria-controls', panel.id);
    control.setAttribute('aria-expanded', 'false');
    control.addEventListener('click', (event) => {
      event.preventDefault();
      if (panel.classList.contains('is-open')) close(panel, true); else open(panel);
    });
    control.addEventListener('keydown', (event) => {
      if (event.key === ' ') { event.preventDefault(); control.click(); }
    });
  }
  for (const link of document.querySelectorAll('[data-fold-close]')) {
    const panel = byId(link.getAttribute('data-fold-close'));
    if (!panel) continue;
    link.addEventListener('click', (event) => {
      event.preventDefault();
      close(panel, true);
    });
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') close(panel, true);
    });
  }
}
