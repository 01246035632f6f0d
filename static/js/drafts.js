/* Drafts: what the reader typed in a room's composer is kept (in this browser's storage, per
 * account and room) when they leave the room or reload, until it is sent; signing out forgets
 * every draft, so the next person at a shared computer does not find them. */
import { byId, currentRoom, currentUser, caretToEnd, requestElement } from './dom.js';

const PREFIX = 'webchat:draft:';
const SAVE_MS = 300;

function storage() {
  try {
    return window.localStorage;
  } catch (e) {
    return null; // storage refused (privacy settings): no drafts
  }
}

function forgetAll(store) {
  for (let i = store.length - 1; i >= 0; i--) {
    const key = store.key(i);
    if (key && key.startsWith(PREFIX)) store.removeItem(key);
  }
}

export function start() {
  const store = storage();
  if (!store) return;
  let signingOut = false; // then nothing is saved again as the page goes
  for (const form of document.querySelectorAll('form[action="/logout"], form[action="/logout/everywhere"]')) {
    form.addEventListener('submit', () => { signingOut = true; forgetAll(store); });
  }
  const room = currentRoom();
  const user = currentUser();
  const main = byId('main');
  if (!room || !user || !main || !byId('composer-body')) return;
  const key = PREFIX + user + ':' + room;

  const save = () => {
    const field = byId('composer-body');
    if (!field || signingOut) return;
    try {
      if (field.value.trim()) store.setItem(key, field.value); else store.removeItem(key);
    } catch (e) { /* storage full: the draft is only in the page */ }
  };

  // Restore into an empty composer (a composer sent back with an error keeps its own text).
  const field = byId('composer-body');
  const draft = store.getItem(key);
  if (draft && !field.value) {
    field.value = draft;
    if (document.activeElement === field) caretToEnd(field);
  }

  let timer = null;
  let sending = null; // the text on its way: not a draft any more (unless it comes back)
  main.addEventListener('submit', (event) => {
    if (event.target.id !== 'composer') return;
    clearTimeout(timer);
    sending = byId('composer-body').value;
    store.removeItem(key);
  });
  main.addEventListener('input', (event) => {
    if (event.target.id !== 'composer-body') return;
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_MS);
  });
  // Sent (the composer emptied or kept what was typed meanwhile), or replaced.
  main.addEventListener('webchat:composer-changed', () => { sending = null; clearTimeout(timer); save(); });
  // Not sent after all (no connection, a rate limit): the text in the composer is a draft again.
  main.addEventListener('htmx:afterRequest', (event) => {
    const elt = requestElement(event.detail);
    if (!elt || elt.id !== 'composer' || (event.detail.successful && event.detail.xhr.status < 400)) return;
    sending = null;
    save();
  });
  // Leaving the page before the pause is over (but not with a message on its way).
  window.addEventListener('pagehide', () => {
    clearTimeout(timer);
    const field = byId('composer-body');
    if (field && field.value !== sending) save();
  });
}
