/* webchat's browser code: native ES modules, one feature each, no build step. Everything here is
 * an enhancement: every page works without it. No eval, no inline handlers, no inline styles
 * (strict CSP).
 *
 * Module scripts run once the document is parsed and before DOMContentLoaded, when htmx (loaded
 * before this, deferred) processes the page: so the resume hook is in place before the first
 * event stream opens. The features start in this order, which matters where one builds on
 * another: times before days (days are the reader's), days and the Tab order before the reading
 * position (heights and the active message), drafts before focus (the caret goes to the end of a
 * restored draft).
 */
import * as resume from './resume.js';
import * as times from './times.js';
import * as days from './days.js';
import * as roving from './roving.js';
import * as roomnav from './roomnav.js';
import * as actions from './actions.js';
import * as position from './position.js';
import * as arrivals from './arrivals.js';
import * as typing from './typing.js';
import * as unread from './unread.js';
import * as read from './read.js';
import * as connection from './connection.js';
import * as composer from './composer.js';
import * as drafts from './drafts.js';
import * as editing from './editing.js';
import * as replying from './replying.js';
import * as recall from './recall.js';
import * as folds from './folds.js';
import * as combobox from './combobox.js';
import * as mentions from './mentions.js';
import * as notifications from './notifications.js';
import * as links from './links.js';
import * as reactions from './reactions.js';
import * as focus from './focus.js';
import * as blocked from './blocked.js';
import * as zone from './zone.js';
import * as attachments from './attachments.js';

for (const feature of [resume, times, days, roving, roomnav, actions, position, arrivals, typing, unread, read,
  connection, composer, drafts, editing, replying, recall, folds, combobox, mentions, notifications, links,
  reactions, focus, blocked, zone, attachments]) {
  try {
    feature.start();
  } catch (error) {
    // One feature failing must not take the others with it; the page works without any of them.
    console.error(error);
  }
}
