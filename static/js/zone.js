/* The browser's time zone, offered once: a reader who has not chosen a zone (on /settings) sees
 * "Your time zone looks like Europe/Berlin: use it for the times on every page?", a form the
 * server renders hidden (#zone-offer) that posts the zone to /settings and comes back here.
 * Never changed silently; "Not now" is kept in this browser (for that zone). A browser in UTC is
 * offered nothing: pages already show UTC. */
import { t } from './i18n.js';

const DISMISSED = 'webchat.zoneOffer.dismissed';

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (e) {
    return '';
  }
}

function dismissed(zone) {
  try {
    return localStorage.getItem(DISMISSED) === zone;
  } catch (e) {
    return false;
  }
}

export function start() {
  const form = document.getElementById('zone-offer');
  if (!form) return;
  const zone = browserZone();
  if (!zone || /^(Etc\/)?(UTC|GMT|UCT|Universal|Zulu)$/.test(zone) || dismissed(zone)) return;
  form.elements.time_zone.value = zone;
  form.elements.next.value = location.pathname + location.search;
  form.querySelectorAll('.zone-offer-name').forEach((el) => { el.textContent = zone; });
  form.querySelector('.zone-offer-use').textContent = t('Use %(zone)s', { zone });
  form.querySelector('.zone-offer-dismiss').addEventListener('click', () => {
    try {
      localStorage.setItem(DISMISSED, zone);
    } catch (e) {
      // Private browsing without storage: asked again next time.
    }
    form.hidden = true;
    const main = document.getElementById('main');
    if (main) main.focus();
  });
  form.hidden = false;
}
