/* webchat: the small amount of script that makes the server-rendered pages live.
 *
 * Loaded with `defer` after htmx and its SSE extension, so it runs once the document is parsed and
 * before htmx processes it (htmx starts on DOMContentLoaded). Everything here is an enhancement:
 * every page works without it. No eval, no inline handlers, no inline styles (strict CSP).
 *
 *  1. resume: every EventSource the SSE extension opens carries ?last_event_id= of the newest event
 *     this tab has seen, so a reconnect never loses or repeats a message;
 *  2. a `message` whose <li id="m-N"> is already shown replaces it instead of being added twice;
 *  3. one announcer (#announcer, polite): new messages from others (never history loads or
 *     replays), at most once a second, a burst summed up; typing, once per person, when asked
 *     for; errors that stop a message, and a lost connection and its recovery, said once;
 *  4. unread counts are worked out as latest minus read;
 *  5. read markers are posted (coalesced) while the room is visible;
 *  6. Enter sends, Shift+Enter starts a new line; focus stays in the composer (the same field:
 *     a sent message refreshes the composer's hidden values instead of replacing it);
 *  7. `reload` reloads; 8. `close` disables the composer;
 *  9. times are shown in local time; 10. the newest message stays in view;
 * 11. an error summary takes focus; 12. a lost connection is shown (and said) only once it has
 *     been down for a few seconds, and so is its recovery;
 * 13. focus survives the swap of a message or of "Show older messages" (it does not fall to the
 *     top of the page), and an open edit form is not replaced by an edit arriving meanwhile.
 */
(function () {
  'use strict';

  var doc = document;
  var root = doc.documentElement;
  var body = doc.body;
  if (!body) return;
  var htmx = window.htmx;

  var ANNOUNCE_MAX = 300;
  var ANNOUNCE_CLEAR_MS = 7000;
  var READ_INTERVAL_MS = 3000;
  var RECONNECT_NOTICE_MS = 5000;
  var NEAR_BOTTOM_PX = 64;

  function byId(id) { return doc.getElementById(id); }

  function isVisible() { return doc.visibilityState !== 'hidden'; }

  function prefersReducedMotion() {
    return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  function currentUser() { return body.getAttribute('data-user') || ''; }

  function currentRoom() { return body.getAttribute('data-room') || ''; }

  function messageNumber(li) {
    var m = li && li.id ? /^m-(\d+)$/.exec(li.id) : null;
    return m ? parseInt(m[1], 10) : 0;
  }

  /* ------------------------------------------------------------------------------------------
   * 1. Resume: replace htmx.createEventSource.
   * The extension calls it on every (re)connect, including its own retry after a failed
   * connection, which sends no Last-Event-ID header: the query parameter carries it instead.
   * ------------------------------------------------------------------------------------------ */
  var lastEventIds = {}; // stream path -> newest event id seen (a number)

  function rememberIds(path) {
    return function (event) {
      var raw = event && event.lastEventId;
      if (!raw || !/^\d+$/.test(raw)) return;
      var id = parseInt(raw, 10);
      if (!(path in lastEventIds) || id > lastEventIds[path]) lastEventIds[path] = id;
    };
  }

  function resumeUrl(url) {
    var parsed;
    try {
      parsed = new URL(url, location.href);
    } catch (e) {
      return { href: url, path: String(url) };
    }
    var path = parsed.pathname;
    if (path in lastEventIds) {
      var rendered = parseInt(parsed.searchParams.get('last_event_id') || '', 10);
      var newest = isNaN(rendered) ? lastEventIds[path] : Math.max(rendered, lastEventIds[path]);
      parsed.searchParams.set('last_event_id', String(newest));
    }
    var href = parsed.origin === location.origin ? parsed.pathname + parsed.search : parsed.href;
    return { href: href, path: path };
  }

  if (htmx && typeof window.EventSource === 'function') {
    htmx.createEventSource = function (url) {
      var target = resumeUrl(url);
      var source = new EventSource(target.href, { withCredentials: true });
      var remember = rememberIds(target.path);
      source.addEventListener('message', remember);
      source.addEventListener('message_updated', remember);
      return source;
    };
  }

  /* ------------------------------------------------------------------------------------------
   * 9. Local time: <time datetime> in message headers (read markers, the edit page) in the
   * reader's zone, and in the sentence a screen reader says for a message ("Ana Lima @ana,
   * 6:40 PM: …").
   * ------------------------------------------------------------------------------------------ */
  var TIME_SELECTOR = '.meta time[datetime], .read-list time[datetime], .message-source time[datetime]';

  function formatLocal(date) {
    var now = new Date();
    var options = { hour: 'numeric', minute: '2-digit' };
    if (date.toDateString() !== now.toDateString()) {
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

  // The server writes the sentence with the UTC time: "NAME @USERNAME, UTC…: TEXT".
  function localizeSentence(li, utc, local) {
    var said = li && li.querySelector('.said');
    var author = li && li.querySelector('.meta .author');
    if (!said || !author) return;
    var head = author.textContent + ' @' + (li.getAttribute('data-author') || '') + ', ';
    var text = said.textContent;
    if (text.indexOf(head + utc) !== 0) return;
    said.textContent = head + local + text.slice(head.length + utc.length);
  }

  function localizeTimes(scope) {
    if (!scope || !scope.querySelectorAll) return;
    var times = Array.prototype.slice.call(scope.querySelectorAll(TIME_SELECTOR));
    if (scope.matches && scope.matches(TIME_SELECTOR)) times.push(scope);
    times.forEach(function (time) {
      if (time.hasAttribute('data-local')) return;
      var date = new Date(time.getAttribute('datetime'));
      if (isNaN(date.getTime())) return;
      var utc = time.textContent.trim(); // e.g. "2026-11-30 18:40 UTC"
      var local = formatLocal(date);
      time.textContent = local;
      time.setAttribute('data-local', '');
      var li = time.closest('li.message');
      if (li) {
        // Hidden from screen readers (they hear the sentence), so a title adds no second reading.
        if (!time.title) time.title = utc;
        localizeSentence(li, utc, local);
      }
    });
  }

  /* ------------------------------------------------------------------------------------------
   * 3. Announcer: one polite live region, separate from the history, fed through a queue.
   *
   * Self-contained (it uses nothing else in this file): it speaks at most once a second, so
   * nothing piles up in a screen reader's speech queue; when more than three messages wait, it
   * sums them up in one sentence ("5 new messages from Ana Lima and Ben Okafor"); a notice whose
   * news is stale by its turn (someone who has stopped typing) is dropped; an empty string is
   * never spoken. What it says stays in the region for a few seconds (for a reader who moves to
   * it), then is removed, which is not announced.
   *
   *   var announcer = createAnnouncer(regionElement);
   *   announcer.message('Ana Lima', 'Ana Lima @ana: Good morning');   // summed up in a burst
   *   announcer.notice('Connection lost. …', 'connection');  // a later notice of a key replaces a waiting one
   *   announcer.notice(function () { return stillTrue ? 'Ana Lima is typing' : ''; });
   * ------------------------------------------------------------------------------------------ */
  function createAnnouncer(region, options) {
    options = options || {};
    var interval = options.interval || 1000; // ms between two utterances, at least
    var most = options.most || 3;            // more messages than this waiting: one summary
    var keep = options.keep || 7000;         // ms an utterance stays in the region
    var queue = [];
    var timer = null;
    var clearTimer = null;
    var lastSpoke = -Infinity;

    function joinNames(names) {
      if (names.length <= 1) return names.join('');
      if (names.length > 3) return names.slice(0, 2).join(', ') + ' and ' + (names.length - 2) + ' others';
      return names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1];
    }

    function summarize(messages) {
      var authors = [];
      messages.forEach(function (item) {
        if (authors.indexOf(item.author) === -1) authors.push(item.author);
      });
      return messages.length + ' new messages from ' + joinNames(authors);
    }

    function speak(text) {
      var p = document.createElement('p');
      p.textContent = text;
      while (region.firstChild) region.removeChild(region.firstChild);
      region.appendChild(p);
      if (clearTimer) clearTimeout(clearTimer);
      clearTimer = setTimeout(function () {
        clearTimer = null;
        if (p.parentNode === region) region.removeChild(p);
      }, keep);
    }

    function nextText() {
      var messages = queue.filter(function (item) { return item.author !== undefined; });
      if (messages.length > most) {
        queue = queue.filter(function (item) { return item.author === undefined; });
        return summarize(messages);
      }
      while (queue.length) {
        var item = queue.shift();
        var text = typeof item.text === 'function' ? item.text() : item.text;
        text = (text || '').replace(/\s+/g, ' ').trim();
        if (text) return text;
      }
      return '';
    }

    function drain() {
      timer = null;
      var text = nextText();
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
      if (item.key) queue = queue.filter(function (waiting) { return waiting.key !== item.key; });
      queue.push(item);
      schedule();
    }

    return {
      message: function (author, text) { push({ author: author || '', text: text }); },
      notice: function (text, key) { push({ text: text, key: key }); }
    };
  }

  var announcer = (function () {
    var region = byId('announcer');
    return region ? createAnnouncer(region) : { message: function () {}, notice: function () {} };
  })();

  var ANNOUNCE_MAX = 300;

  function squash(text) { return (text || '').replace(/\s+/g, ' ').trim(); }

  function shouldAnnounce(li) {
    if (!li || li.hasAttribute('data-replayed')) return false;
    var me = currentUser();
    var author = li.getAttribute('data-author') || '';
    if (me && author.toLowerCase() === me.toLowerCase()) return false;
    var setting = body.getAttribute('data-announce') || 'all';
    if (setting === 'none') return false;
    if (setting === 'mentions') {
      var mentions = (li.getAttribute('data-mentions') || '').split(/\s+/);
      return !!me && mentions.indexOf(me.toLowerCase()) !== -1;
    }
    return true;
  }

  function announceMessage(li) {
    if (!shouldAnnounce(li)) return;
    var authorEl = li.querySelector('.meta .author');
    var bodyEl = li.querySelector('.body');
    var name = squash(authorEl ? authorEl.textContent : '');
    var username = li.getAttribute('data-author') || '';
    var text = squash(bodyEl ? bodyEl.textContent : '');
    if (text.length > ANNOUNCE_MAX) text = text.slice(0, ANNOUNCE_MAX - 1).trim() + '…';
    // The @username always goes with the name: a display name alone can be anyone's.
    announcer.message(name || username, (name ? name + ' @' : '@') + username + ': ' + text);
  }

  /* ------------------------------------------------------------------------------------------
   * Typing: #typing shows who is typing, but is not a live region. When the reader has asked for
   * it (Settings), a person is announced once when they start typing, never again while they
   * keep typing (they stay in the list), and not at all if they stopped before their turn.
   * ------------------------------------------------------------------------------------------ */
  var typingNow = {}; // user id -> display name, as #typing last showed

  function readTypers() {
    var found = {};
    var el = byId('typing');
    if (!el) return found;
    Array.prototype.forEach.call(el.querySelectorAll('data.typer[value]'), function (typer) {
      found[typer.getAttribute('value')] = squash(typer.getAttribute('data-name'));
    });
    return found;
  }

  function typingSentence(names) {
    if (!names.length) return '';
    if (names.length === 1) return names[0] + ' is typing';
    return names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing';
  }

  function onTyping() {
    var before = typingNow;
    typingNow = readTypers();
    if (body.getAttribute('data-announce-typing') !== 'on') return;
    var started = Object.keys(typingNow).filter(function (id) { return !(id in before); });
    if (!started.length) return;
    announcer.notice(function () {
      return typingSentence(started.filter(function (id) { return id in typingNow; })
        .map(function (id) { return typingNow[id]; }));
    });
  }

  /* ------------------------------------------------------------------------------------------
   * 4. Unread counts: latest minus read, worked out here from the shared <data> values.
   * ------------------------------------------------------------------------------------------ */
  function dataValue(id) {
    var el = byId(id);
    if (!el) return null;
    var n = parseInt(el.getAttribute('value'), 10);
    return isNaN(n) ? null : n;
  }

  function updateUnread() {
    var room = currentRoom();
    var badges = doc.querySelectorAll('[id^="unread-"]');
    Array.prototype.forEach.call(badges, function (badge) {
      var id = badge.id.slice('unread-'.length);
      var latest = dataValue('latest-' + id);
      var read = dataValue('read-' + id);
      if (latest === null || read === null) return;
      var count = latest - read;
      if (room && id === room && isVisible()) count = 0; // the open room, being read now
      var text = count > 0 ? count + ' unread' : '';
      if (badge.textContent !== text) badge.textContent = text;
    });
  }

  /* ------------------------------------------------------------------------------------------
   * 5. Read markers: POST /rooms/ID/read, at most every 3 s, only while visible, only forward.
   * ------------------------------------------------------------------------------------------ */
  var streamClosed = false;
  var readSent = 0;
  var readSentAt = 0;
  var readTimer = null;

  function lastMessageNumber() {
    var list = byId('messages');
    if (!list) return 0;
    var items = list.querySelectorAll('li.message[id^="m-"]');
    return items.length ? messageNumber(items[items.length - 1]) : 0;
  }

  function csrfToken() {
    var meta = doc.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') || '' : '';
  }

  function canMarkRead() {
    // Only members have read markers; the composer is shown to members only.
    return !!(currentRoom() && byId('composer') && !streamClosed && window.fetch);
  }

  function sendRead() {
    readTimer = null;
    if (!canMarkRead() || !isVisible()) return;
    var number = lastMessageNumber();
    if (!number || number <= readSent) return;
    var previous = readSent;
    readSent = number;
    readSentAt = Date.now();
    fetch('/rooms/' + encodeURIComponent(currentRoom()) + '/read', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'HX-Request': 'true',
        'X-CSRF-Token': csrfToken()
      },
      body: 'last_message_id=' + encodeURIComponent(String(number))
    }).then(function (response) {
      if (!response.ok && response.status >= 500 && readSent === number) readSent = previous;
    }, function () {
      if (readSent === number) readSent = previous; // offline: try again with the next message
    });
  }

  function scheduleRead() {
    if (readTimer || !canMarkRead() || !isVisible()) return;
    var wait = Math.max(0, readSentAt + READ_INTERVAL_MS - Date.now());
    readTimer = setTimeout(sendRead, wait);
  }

  /* ------------------------------------------------------------------------------------------
   * 10. Scrolling: keep the newest message in view when the reader was already at the end.
   * ------------------------------------------------------------------------------------------ */
  var pendingScroll = null; // the history's bottom (viewport px) just before a message is added

  function historyBottom() {
    var list = byId('messages');
    return list ? list.getBoundingClientRect().bottom : null;
  }

  function noteScrollPosition() {
    var bottom = historyBottom();
    pendingScroll = bottom !== null && bottom <= window.innerHeight + NEAR_BOTTOM_PX ? bottom : null;
  }

  function keepNewestVisible() {
    var before = pendingScroll;
    pendingScroll = null;
    if (before === null) return; // the reader is further up, reading: leave the view alone
    var after = historyBottom();
    if (after === null) return;
    var limit = window.innerHeight - 8;
    if (after <= limit) return; // still in view: nothing to do
    // Put the end of the history back where it was (so the composer below stays put too).
    var dest = Math.min(Math.max(before, 0), limit);
    window.scrollBy({ top: after - dest, left: 0, behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
  }

  /* ------------------------------------------------------------------------------------------
   * 2. No duplicate messages, and 3/5/10 when a message arrives.
   * ------------------------------------------------------------------------------------------ */
  function parseMessage(html) {
    var template = doc.createElement('template');
    template.innerHTML = html || '';
    return template.content.querySelector('li[id^="m-"]');
  }

  function messageIdIn(html) {
    var m = /\bid="(m-\d+)"/.exec(html || '');
    return m ? m[1] : null;
  }

  doc.addEventListener('htmx:sseBeforeMessage', function (event) {
    var detail = event.detail;
    var target = event.target;
    if (!detail || detail.type !== 'message' || !target || target.id !== 'messages') return;
    noteScrollPosition();
    var id = messageIdIn(detail.data);
    var existing = id ? byId(id) : null;
    if (!existing) return;
    // Already shown (a replay after a reconnect): replace it instead of adding it twice.
    event.preventDefault();
    pendingScroll = null;
    if (existing.classList.contains('editing')) return; // do not throw away an open edit form
    var fresh = parseMessage(detail.data);
    if (!fresh) return;
    rememberFocus(existing);
    existing.replaceWith(fresh);
    if (htmx) htmx.process(fresh);
    localizeTimes(fresh);
    restoreFocus(fresh);
  });

  function onMessage(detail) {
    var id = messageIdIn(detail.data);
    var li = id ? byId(id) : null;
    if (!li) return;
    localizeTimes(li);
    keepNewestVisible();
    announceMessage(li);
    scheduleRead();
  }

  /* ------------------------------------------------------------------------------------------
   * 7, 8. reload and close.
   * ------------------------------------------------------------------------------------------ */
  function closeComposer() {
    streamClosed = true;
    if (readTimer) { clearTimeout(readTimer); readTimer = null; }
    root.classList.remove('stream-open');
    root.classList.add('stream-closed');
    setStatus('');
    var composer = byId('composer');
    if (!composer) return;
    var hadFocus = composer.contains(doc.activeElement);
    composer.classList.add('is-closed');
    Array.prototype.forEach.call(composer.querySelectorAll('textarea, button, input:not([type="hidden"])'),
      function (control) { control.disabled = true; });
    composer.hidden = true; // nobody types into a room they can no longer post in
    var notice = byId('composer-notice');
    if (notice) notice.hidden = true;
    // Focus was in the composer that just went away: put it on the notice that says why.
    var streamNotice = byId('stream-notice');
    // (After the notice itself has been swapped in, in the same event.)
    if (hadFocus && streamNotice) {
      streamNotice.setAttribute('tabindex', '-1');
      setTimeout(function () { streamNotice.focus(); }, 50);
    }
  }

  doc.addEventListener('htmx:sseMessage', function (event) {
    var detail = event.detail || {};
    switch (detail.type) {
      case 'message':
        if (event.target && event.target.id === 'messages') onMessage(detail);
        break;
      case 'typing':
        onTyping();
        break;
      case 'unread':
        updateUnread();
        break;
      case 'reload':
        location.reload();
        break;
      case 'close':
        closeComposer();
        break;
    }
  });

  doc.addEventListener('htmx:sseClose', function (event) {
    if (event.detail && event.detail.type === 'message') closeComposer();
  });

  doc.addEventListener('htmx:oobAfterSwap', function (event) {
    var id = event.target && event.target.id;
    if (id && (id.indexOf('latest-') === 0 || id.indexOf('read-') === 0)) updateUnread();
  });

  /* ------------------------------------------------------------------------------------------
   * 12. Connection status: quiet unless the stream has been down for a few seconds; then shown
   * and said once (with what to do), and its recovery too.
   * ------------------------------------------------------------------------------------------ */
  var connected = false;
  var downTimer = null;
  var downShown = false;
  var statusTimer = null;
  var CONNECTION_LOST = 'Connection lost. Trying to reconnect; wait before sending.';
  var CONNECTION_BACK = 'Connected again. Messages you missed are in the history.';

  function setStatus(text) {
    var status = byId('connection-status');
    if (statusTimer) { clearTimeout(statusTimer); statusTimer = null; }
    if (status && status.textContent !== text) status.textContent = text;
  }

  doc.addEventListener('htmx:sseOpen', function () {
    connected = true;
    root.classList.add('stream-open');
    if (downTimer) { clearTimeout(downTimer); downTimer = null; }
    if (downShown) {
      downShown = false;
      setStatus(CONNECTION_BACK);
      announcer.notice(CONNECTION_BACK, 'connection');
      statusTimer = setTimeout(function () { setStatus(''); }, 4000);
    }
  });

  doc.addEventListener('htmx:sseError', function () {
    connected = false;
    root.classList.remove('stream-open');
    if (streamClosed || downTimer || downShown) return;
    downTimer = setTimeout(function () {
      downTimer = null;
      if (connected || streamClosed) return;
      downShown = true;
      setStatus(CONNECTION_LOST);
      announcer.notice(CONNECTION_LOST, 'connection');
    }, RECONNECT_NOTICE_MS);
  });

  /* ------------------------------------------------------------------------------------------
   * 6. Composer: Enter sends, Shift+Enter starts a new line; focus and typed text survive the
   * swap of the composer.
   * ------------------------------------------------------------------------------------------ */
  var composerState = { focused: false, sent: null, current: null };

  doc.addEventListener('keydown', function (event) {
    var field = event.target;
    if (!field || field.id !== 'composer-body' || event.key !== 'Enter') return;
    if (event.shiftKey || event.altKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (field.disabled || field.readOnly || !field.value.trim()) return;
    var form = field.form;
    if (!form) return;
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      var button = form.querySelector('button[type="submit"], button:not([type])');
      if (button) button.click(); else form.submit();
    }
  });

  doc.addEventListener('submit', function (event) {
    var form = event.target;
    if (form && form.id === 'composer') {
      composerState.focused = form.contains(doc.activeElement);
    }
  }, true);

  function isComposerRequest(detail) {
    var elt = detail && detail.requestConfig ? detail.requestConfig.elt : detail && detail.elt;
    return !!(elt && elt.id === 'composer');
  }

  doc.addEventListener('htmx:beforeRequest', function (event) {
    if (!isComposerRequest(event.detail)) return;
    var field = byId('composer-body');
    composerState.sent = field ? field.value : null;
  });

  doc.addEventListener('htmx:beforeSwap', function (event) {
    var detail = event.detail;
    if (!isComposerRequest(detail)) return;
    var field = byId('composer-body');
    composerState.current = field ? field.value : null;
    var status = detail.xhr ? detail.xhr.status : 200;
    var notice = byId('composer-notice');
    if (status >= 400 && status !== 422 && status !== 401 && notice) {
      // Not a composer (rate limit, expired form, server error): show it beside the composer
      // instead of replacing the composer and the text in it.
      detail.target = notice;
      detail.swapOverride = 'innerHTML';
      composerState.current = null;
      return;
    }
    if (notice) notice.textContent = '';
    if (status === 200 && refreshComposer(detail.serverResponse)) {
      detail.shouldSwap = false;
      composerState.sent = composerState.current = composerState.focused = null;
    }
  });

  // What stays in the composer once a message is sent: whatever was typed after it.
  function keptText(sent, current) {
    if (sent === null || current === null || current === sent) return '';
    return current.indexOf(sent) === 0 ? current.slice(sent.length) : current;
  }

  /* A message was sent: the answer is a fresh composer (a new nonce). When neither composer
   * shows an error, the one on the page takes the new hidden values instead of being replaced:
   * the same text field keeps focus, so a screen reader does not read the field out again after
   * every message. */
  function refreshComposer(html) {
    var form = byId('composer');
    var field = byId('composer-body');
    if (!form || !field || byId('composer-error') || !html) return false;
    var template = doc.createElement('template');
    template.innerHTML = html;
    var fresh = template.content.querySelector('form#composer');
    if (!fresh || fresh.querySelector('#composer-error')) return false;
    var hidden = fresh.querySelectorAll('input[type="hidden"][name]');
    for (var i = 0; i < hidden.length; i++) {
      var mine = form.querySelector('input[type="hidden"][name="' + hidden[i].name + '"]');
      if (!mine) return false; // not the form this page knows: let htmx replace it
    }
    Array.prototype.forEach.call(hidden, function (input) {
      form.querySelector('input[type="hidden"][name="' + input.name + '"]').value = input.value;
    });
    field.value = keptText(composerState.sent, field.value);
    return true;
  }

  doc.addEventListener('htmx:afterSwap', function (event) {
    var form = event.target;
    if (!form || form.id !== 'composer') return;
    var field = byId('composer-body');
    if (!field) return;
    var sent = composerState.sent;
    var current = composerState.current;
    composerState.sent = composerState.current = null;
    // Text typed while the message was on its way is kept, not wiped by the fresh composer.
    if (current !== null && sent !== null && current !== sent && (field.value === '' || field.value === sent)) {
      field.value = keptText(sent, current);
    }
    if (streamClosed) { closeComposer(); return; }
    var error = byId('composer-error');
    if (composerState.focused) {
      composerState.focused = false;
      // A 422's error is part of the field's description: focusing the field says it.
      field.focus({ preventScroll: true });
      var end = field.value.length;
      try { field.setSelectionRange(end, end); } catch (e) { /* not a text control */ }
    } else if (error) {
      announcer.notice(notSent(error.textContent), 'composer');
    }
  });

  /* Errors that stop a message from being sent are shown beside the composer and said once,
   * politely, with what to do; the text stays in the composer, to be sent again. */
  function sentence(text) {
    text = squash(text);
    return !text || /[.!?…:]$/.test(text) ? text : text + '.';
  }

  function notSent(reason) {
    return 'Your message was not sent. ' + sentence(String(reason).replace(/^\s*Error:\s*/, ''));
  }

  // The server's answer (a rate limit, an expired form, a failure) has just been put beside the
  // composer (see htmx:beforeSwap above): say it.
  doc.addEventListener('htmx:afterRequest', function (event) {
    var detail = event.detail || {};
    var status = detail.xhr ? detail.xhr.status : 0;
    if (!isComposerRequest(detail) || status < 400 || status === 401 || status === 422) return;
    var notice = byId('composer-notice');
    if (!notice) return;
    var heading = notice.querySelector('h2');
    var parts = Array.prototype.map.call(notice.querySelectorAll('p'), function (p) { return sentence(p.textContent); });
    var reason = (heading ? sentence(heading.textContent) + ' ' : '') + parts.join(' ');
    announcer.notice(notSent(reason || 'Something went wrong. Try again.'), 'composer');
  });

  // No answer at all (offline, the server down): nothing was swapped, so say it here.
  doc.addEventListener('htmx:sendError', function (event) {
    if (!isComposerRequest(event.detail)) return;
    var reason = 'The server could not be reached. Check your connection, then press Enter to send it again.';
    var notice = byId('composer-notice');
    if (notice) {
      var box = doc.createElement('div');
      var heading = doc.createElement('h2');
      var text = doc.createElement('p');
      box.className = 'error-summary';
      heading.textContent = 'Your message was not sent';
      text.textContent = reason;
      box.appendChild(heading);
      box.appendChild(text);
      notice.replaceChildren ? notice.replaceChildren(box) : (notice.textContent = '', notice.appendChild(box));
    }
    announcer.notice(notSent(reason), 'composer');
  });

  // A signed-out htmx request (401) is not swapped: send the reader to sign in.
  doc.addEventListener('htmx:responseError', function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 401) {
      location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    }
  });

  /* ------------------------------------------------------------------------------------------
   * New content from htmx (history pages, read markers, edits): local times.
   * ------------------------------------------------------------------------------------------ */
  doc.addEventListener('htmx:load', function (event) {
    localizeTimes(event.target);
    restoreFocus(event.target);
  });

  /* ------------------------------------------------------------------------------------------
   * 13. Focus survives swaps: when a message (opening or closing its edit form, an edit or a
   * delete arriving from the stream) or the "Show older messages" line is replaced while focus
   * is inside it, focus moves to the same place in its replacement instead of falling back to
   * the top of the page, where a keyboard or screen-reader user would lose their place.
   * ------------------------------------------------------------------------------------------ */
  var FOCUS_KEEPERS = 'li[id^="m-"], #older';
  var FOCUS_ORDER = ['textarea', 'a.act-own', 'a.act-moderate', 'a[href]', 'button', 'input:not([type="hidden"])'];
  var FOCUS_MEMO_MS = 10000;
  var focusMemo = null; // {id, at}: the element being replaced held focus

  function shown(el) { return !!(el && !el.disabled && el.getClientRects().length); }

  function rememberFocus(target) {
    // `target` is about to be replaced; remember it if it is (or is inside) a keeper holding focus.
    var active = doc.activeElement;
    if (!target || !target.contains || !active || active === body || !target.contains(active)) return;
    var keeper = active.closest(FOCUS_KEEPERS);
    if (keeper && keeper.id && keeper.contains(target)) focusMemo = { id: keeper.id, at: Date.now() };
  }

  function focusLost() {
    var active = doc.activeElement;
    return !active || active === body || active === root || !active.isConnected;
  }

  function restoreFocus(scope) {
    if (!focusMemo || !scope || !scope.nodeType || scope.nodeType !== 1) return;
    var el = scope.id === focusMemo.id ? scope : scope.querySelector && scope.querySelector('#' + focusMemo.id);
    if (!el) return;
    var fresh = Date.now() - focusMemo.at < FOCUS_MEMO_MS;
    focusMemo = null;
    if (!fresh || !focusLost()) return; // the reader has moved on: leave focus alone
    var target = null;
    for (var i = 0; i < FOCUS_ORDER.length && !target; i++) {
      var found = Array.prototype.filter.call(el.querySelectorAll(FOCUS_ORDER[i]), shown);
      target = found[0] || null;
    }
    if (!target) {
      // Nothing to operate (a deleted message, the start of the conversation): the element itself.
      el.setAttribute('tabindex', '-1');
      target = el;
    }
    target.focus();
    if (target.tagName === 'TEXTAREA') {
      var end = target.value.length;
      try { target.setSelectionRange(end, end); } catch (e) { /* not a text control */ }
    }
  }

  doc.addEventListener('htmx:beforeSwap', function (event) { rememberFocus(event.detail && event.detail.target); });
  doc.addEventListener('htmx:oobBeforeSwap', function (event) {
    var detail = event.detail || {};
    var target = detail.target;
    // An edit (from this or another tab) arriving while this message's edit form is open keeps
    // the form: the reader is typing in it. A deletion still replaces it.
    if (target && target.classList && target.classList.contains('editing') && detail.fragment &&
        detail.fragment.querySelector) {
      var incoming = detail.fragment.querySelector('li[id^="m-"]');
      if (incoming && incoming.id === target.id && !incoming.classList.contains('deleted')) {
        detail.shouldSwap = false;
        return;
      }
    }
    rememberFocus(target);
  });

  doc.addEventListener('visibilitychange', function () {
    updateUnread();
    if (isVisible()) scheduleRead();
  });

  /* ------------------------------------------------------------------------------------------
   * On load.
   * ------------------------------------------------------------------------------------------ */
  localizeTimes(doc);
  typingNow = readTypers();
  updateUnread();
  readSent = lastMessageNumber(); // showing the room marks it read up to here on the server

  // 11. An error summary takes focus, so it is read first and its links are one Tab away.
  var summary = byId('error-summary');
  if (summary) summary.focus();
})();
