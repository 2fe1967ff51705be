// @ts-check
// Words for the host page's schedule: a series' rule said as a person would
// ("every Wednesday, 9:00 Europe/Berlin"), weekday names, and a pager for
// long lists. No DOM state of its own, no server calls.
import { el } from './ui.js';
import { t, lang } from './i18n.js';

const days = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/**
 * The name of a weekday (0 Sunday … 6 Saturday) in the page's language.
 * @param {number} day
 */
export function weekdayName(day) {
  // 2023-01-01 was a Sunday.
  return new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2023, 0, 1 + day)));
}

/**
 * The weekday of a local wall-clock time such as 2026-12-02T09:00.
 * @param {string} local
 */
export function weekdayOf(local) {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(local);
  if (!m) return -1;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
}

/**
 * A series' rule in words, with its time and zone: "every Wednesday, 9:00
 * Europe/Berlin". Rules the page does not know are shown as they are.
 * @param {string} rrule @param {string} first local wall-clock time of the first session @param {string} zone
 */
export function describeRule(rrule, first, zone) {
  const parts = Object.fromEntries(rrule.split(';').map((p) => p.split('=')));
  const tm = /T(\d\d):(\d\d)/.exec(first);
  const time = tm ? `${Number(tm[1])}:${tm[2]}` : '';
  const byday = String(parts.BYDAY || '').split(',').filter(Boolean);
  const interval = Number(parts.INTERVAL || 1);
  const vars = { time, zone };
  if (parts.FREQ === 'DAILY' && interval === 1 && !byday.length) return t('host.rule_daily', vars);
  if (parts.FREQ === 'WEEKLY') {
    if (byday.join(',') === 'MO,TU,WE,TH,FR' && interval === 1) return t('host.rule_weekdays', vars);
    const list = (byday.length ? byday : [days[weekdayOf(first)]]).map((d) => days.indexOf(d));
    if (list.every((d) => d >= 0)) {
      const names = new Intl.ListFormat(lang, { type: 'conjunction' }).format(list.map(weekdayName));
      if (interval === 1) return t('host.rule_weekly', { day: names, ...vars });
      if (interval === 2) return t('host.rule_biweekly', { day: names, ...vars });
    }
  }
  return t('host.rule_other', { rule: rrule, ...vars });
}

/**
 * Shows items a page at a time in list, with "earlier"/"later" buttons and
 * the page number in nav (emptied when one page holds them all).
 * @param {HTMLElement} list @param {HTMLElement} nav @param {HTMLElement[]} items @param {number} [size]
 */
export function paged(list, nav, items, size = 5) {
  const pages = Math.max(1, Math.ceil(items.length / size));
  let page = 0;
  const draw = () => {
    list.replaceChildren(...items.slice(page * size, (page + 1) * size));
    if (pages === 1) {
      nav.replaceChildren();
      return;
    }
    const prev = el('button', { class: 'button small', type: 'button', disabled: page === 0, onclick: () => { page--; draw(); } }, t('host.page_prev'));
    const next = el('button', { class: 'button small', type: 'button', disabled: page === pages - 1, onclick: () => { page++; draw(); } }, t('host.page_next'));
    nav.replaceChildren(prev, el('span', { class: 'sub' }, t('host.page_of', { n: page + 1, m: pages })), next);
  };
  draw();
}
