/* Browser notifications, opted into by a button in the list of rooms (the browser is never asked
 * on page load). One fires only while every open tab of webchat is hidden, as the reader's level
 * for the room says ("all": every message of others; "mentions": mentions of them and replies
 * to them; "none": nothing) and never under "do not disturb". However many tabs are open, one
 * notification per message: the tabs that hear of it say so on a BroadcastChannel, wait a
 * moment, and the one with the smallest id shows it (none does if any tab is visible). Clicking
 * it focuses the tab and opens the room at that message.
 *
 * What the page hears: the shared `latest-N` numbers (with the new message's id and author) and
 * the reader's own `notice-latest` (a message that mentions them or answers them). */
import { byId, currentUser, isVisible } from './dom.js';
import { t } from './i18n.js';

const WINDOW_MS = 300;
const tab = Math.random().toString(36).slice(2) + Date.now().toString(36);
const heard = new Map(); // message id -> { tabs: Set, visible: bool }
const done = new Set(); // message ids shown (here or elsewhere) or given up
let channel = null;

const supported = () => typeof window.Notification === 'function';

function levelOf(room) {
  const entry = byId('nav-room-' + room);
  return entry ? entry.getAttribute('data-notify') || 'all' : 'none';
}

function roomTitle(room) {
  const name = document.querySelector('#nav-room-' + room + ' .room-name');
  return name && name.firstChild ? name.firstChild.textContent.trim() : 'webchat';
}

// Do not disturb, as the page was given it and as the reader's stream says it changed since.
function doNotDisturb() {
  const setting = byId('do-not-disturb-state');
  return !!setting && setting.getAttribute('value') === 'on';
}

function note(id, from, visible) {
  let entry = heard.get(id);
  if (!entry) heard.set(id, entry = { tabs: new Set(), visible: false });
  entry.tabs.add(from);
  entry.visible = entry.visible || visible;
  return entry;
}

function show(id, what) {
  done.add(id);
  if (channel) channel.postMessage({ type: 'shown', id });
  const notification = new window.Notification(what.title, { body: what.body || '', tag: 'webchat-' + id });
  notification.onclick = () => {
    window.focus();
    notification.close();
    window.location.href = '/rooms/' + what.room + '/messages/' + id;
  };
}

function consider(id, what) {
  if (done.has(id) || heard.has(id) && heard.get(id).tabs.has(tab)) return;
  const visible = isVisible();
  note(id, tab, visible);
  if (channel) channel.postMessage({ type: 'candidate', id, tab, visible });
  setTimeout(() => {
    const entry = heard.get(id);
    if (done.has(id) || !entry) return;
    const first = [...entry.tabs].sort()[0];
    if (entry.visible || isVisible() || first !== tab) return;
    show(id, what);
  }, WINDOW_MS);
}

function wanted(room, kind) {
  if (!supported() || window.Notification.permission !== 'granted' || doNotDisturb()) return false;
  const level = levelOf(room);
  return level === 'all' || (level === 'mentions' && kind !== 'message');
}

function onNotice(el) {
  const id = el.getAttribute('value');
  const room = el.getAttribute('data-room');
  const kind = el.getAttribute('data-kind') || 'mention';
  if (!id || id === '0' || !room || !wanted(room, kind)) return;
  const from = el.getAttribute('data-from') || '';
  const title = kind === 'reply' ? t('%(name)s replied to you in %(room)s', { name: from, room: roomTitle(room) })
                                 : t('%(name)s mentioned you in %(room)s', { name: from, room: roomTitle(room) });
  consider(id, { room, title, body: el.getAttribute('data-text') || '' });
}

function onLatest(el) {
  const id = el.getAttribute('data-message');
  const room = el.id.slice('latest-'.length);
  if (!id || el.getAttribute('data-author') === currentUser() || !wanted(room, 'message')) return;
  consider(id, {
    room,
    title: t('New message in %(room)s', { room: roomTitle(room) }),
    body: t('From %(name)s', { name: el.getAttribute('data-from') || '' }),
  });
}

function optIn(nav) {
  let box = byId('notify-optin');
  if (!box) {
    // In a room, with the room's own level (its details, after the conversation); on the list
    // of rooms, at the end of the list.
    box = document.createElement('div');
    box.id = 'notify-optin';
    box.className = 'notify-optin';
    const form = byId('notify-form');
    if (form && form.parentElement) form.parentElement.append(box);
    else nav.append(box);
  }
  const text = document.createElement('p');
  text.className = 'hint';
  if (!supported()) {
    text.textContent = t('This browser cannot show notifications.');
    box.replaceChildren(text);
  } else if (window.Notification.permission === 'denied') {
    text.textContent = t('Browser notifications are blocked for this site in your browser’s settings.');
    box.replaceChildren(text);
  } else if (window.Notification.permission === 'granted') {
    text.textContent = t('Browser notifications are on while webchat is in the background.');
    box.replaceChildren(text);
  } else {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = t('Turn on browser notifications');
    button.addEventListener('click', async () => {
      try {
        await window.Notification.requestPermission();
      } finally {
        optIn(nav);
        const again = byId('notify-optin');
        const focusable = again && again.querySelector('button');
        if (focusable) focusable.focus();
        else if (again) { again.setAttribute('tabindex', '-1'); again.focus(); }
      }
    });
    box.replaceChildren(button);
  }
}

export function start() {
  const nav = byId('room-nav');
  if (!nav) return;
  optIn(nav);
  if (typeof window.BroadcastChannel === 'function') {
    channel = new window.BroadcastChannel('webchat-notifications');
    channel.onmessage = (event) => {
      const data = event.data || {};
      if (!data.id) return;
      if (data.type === 'shown') done.add(data.id);
      else if (data.type === 'candidate' && data.tab) note(data.id, data.tab, !!data.visible);
    };
  }
  nav.addEventListener('htmx:oobAfterSwap', (event) => {
    const el = event.target; // the new element (detail.target is the one it replaced)
    if (!el || !el.id) return;
    if (el.id === 'notice-latest') onNotice(el);
    else if (el.id.startsWith('latest-')) onLatest(el);
  });
}
