/* Resume: every EventSource the SSE extension opens carries ?last_event_id= of the newest event
 * this tab has seen, so a reconnect never loses or repeats a message.
 *
 * The extension calls htmx.createEventSource on every (re)connect, including its own retry after
 * a failed connection, which sends no Last-Event-ID header: the query parameter carries it
 * instead. This module must run before htmx starts (it is imported first, and module scripts run
 * before DOMContentLoaded, when htmx processes the page).
 */

const lastEventIds = new Map(); // stream path -> newest event id seen

function remember(path) {
  return (event) => {
    const raw = event && event.lastEventId;
    if (!raw || !/^\d+$/.test(raw)) return;
    const id = parseInt(raw, 10);
    if (!lastEventIds.has(path) || id > lastEventIds.get(path)) lastEventIds.set(path, id);
  };
}

function resumeUrl(url) {
  let parsed;
  try {
    parsed = new URL(url, location.href);
  } catch (e) {
    return { href: url, path: String(url) };
  }
  const path = parsed.pathname;
  if (lastEventIds.has(path)) {
    const rendered = parseInt(parsed.searchParams.get('last_event_id') || '', 10);
    const seen = lastEventIds.get(path);
    parsed.searchParams.set('last_event_id', String(isNaN(rendered) ? seen : Math.max(rendered, seen)));
  }
  const href = parsed.origin === location.origin ? parsed.pathname + parsed.search : parsed.href;
  return { href, path };
}

export function start() {
  const htmx = window.htmx;
  if (!htmx || typeof window.EventSource !== 'function') return;
  htmx.createEventSource = (url) => {
    const target = resumeUrl(url);
    const source = new EventSource(target.href, { withCredentials: true });
    const seen = remember(target.path);
    source.addEventListener('message', seen);
    source.addEventListener('message_updated', seen);
    return source;
  };
}
