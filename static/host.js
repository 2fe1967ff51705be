// @ts-check
// The host page: sign in with the host key (kept in this browser), schedule
// sessions, hand out invite links, cancel, and look back at past sessions.
import { el, $, localDateTime, planSummary, phaseName, copy } from './ui.js';
import { historyView } from './rounds.js';
import { t, plural } from './i18n.js';
import { describeRule, weekdayName, weekdayOf, paged } from './schedule.js';

const plans = {
  classic: [
    { kind: 'commitment', seconds: 600 }, { kind: 'work', seconds: 3000 }, { kind: 'break', seconds: 600 },
    { kind: 'work', seconds: 3000 }, { kind: 'closing', seconds: 900 },
  ],
  short: [{ kind: 'commitment', seconds: 300 }, { kind: 'work', seconds: 1500 }, { kind: 'closing', seconds: 300 }],
  demo: [{ kind: 'commitment', seconds: 60 }, { kind: 'work', seconds: 60 }, { kind: 'break', seconds: 60 }, { kind: 'work', seconds: 60 }, { kind: 'closing', seconds: 60 }],
};

let key = localStorage.getItem('wt.hostKey') || '';

/**
 * Calls the API as host; throws Error with the server's message.
 * @param {string} method @param {string} path @param {any} [body]
 */
async function api(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(data?.error?.message || t('ui.server_answered', { status: resp.status }));
    /** @type {any} */ (err).status = resp.status;
    throw err;
  }
  return data;
}

function showSignin(message = '') {
  $('signin').hidden = false;
  $('hosting').hidden = true;
  $('signout').hidden = true;
  $('signin-error').textContent = message;
}

async function showHosting() {
  try {
    await api('GET', '/api/host');
  } catch (err) {
    showSignin(/** @type {any} */ (err).status === 401 ? t('host.wrong_key') : t('host.unreachable', { error: String(err) }));
    return;
  }
  $('signin').hidden = true;
  $('hosting').hidden = false;
  $('signout').hidden = false;
  await refresh();
}

async function refresh() {
  refreshSubscribers();
  refreshSeries();
  refreshPast();
  let list;
  try {
    list = await api('GET', '/api/sessions');
  } catch (err) {
    $('list-state').textContent = t('host.load_failed', { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  $('list-state').textContent = list.length ? '' : t('host.nothing');
  paged($('list'), $('list-pages'), list.map(sessionItem));
}

async function refreshPast() {
  let list;
  try {
    list = await api('GET', '/api/sessions?state=ended&limit=100');
  } catch (err) {
    $('past-state').textContent = t('host.load_failed', { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  $('past-state').textContent = list.length ? '' : t('host.no_past');
  paged($('past'), $('past-pages'), list.map(pastItem));
}

/** A session that is over: how it went, and its summary on demand. @param {any} s */
function pastItem(s) {
  const o = s.outcome;
  const details = el('div', { class: 'summary', hidden: true });
  const toggle = el('button', { class: 'button small', type: 'button' }, t('host.show_summary'));
  toggle.onclick = async () => {
    if (!details.hidden) {
      details.hidden = true;
      toggle.textContent = t('host.show_summary');
      return;
    }
    toggle.textContent = t('home.loading');
    try {
      const sum = await api('GET', `/api/sessions/${s.id}/summary`);
      details.replaceChildren(sum.participants.length
        ? historyView(sum.participants)
        : el('p', { class: 'sub' }, t('host.nobody')));
      details.hidden = false;
      toggle.textContent = t('host.hide_summary');
    } catch (err) {
      toggle.textContent = t('host.show_summary');
      alert(err instanceof Error ? err.message : String(err));
    }
  };
  const csv = el('button', { class: 'button small', type: 'button' }, t('host.csv'));
  csv.onclick = () => downloadCSV(s);
  return el('li', { class: 'session past' },
    el('h3', {}, s.title),
    el('p', { class: 'when' }, localDateTime(s.starts_at), ' · ',
      `${plural('host.people', o.people)} · ${plural('record.tasks', o.tasks, { done: o.tasks_done })}`),
    el('p', {}, toggle, ' ', csv),
    details);
}

/** Fetches the summary as CSV with the host key and saves it. @param {any} s */
async function downloadCSV(s) {
  try {
    const resp = await fetch(`/api/sessions/${s.id}/summary?format=csv`, { headers: { Authorization: `Bearer ${key}` } });
    if (!resp.ok) throw new Error(t('ui.server_answered', { status: resp.status }));
    const url = URL.createObjectURL(await resp.blob());
    const a = el('a', { href: url, download: `worktogether-${s.starts_at.slice(0, 10)}-${s.id.slice(0, 8)}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    alert(t('host.download_failed', { error: err instanceof Error ? err.message : String(err) }));
  }
}

async function refreshSubscribers() {
  try {
    const c = await api('GET', '/api/subscribers');
    const stat = (/** @type {string} */ label, /** @type {number} */ n) => el('div', {}, el('b', {}, String(n)), label);
    $('subscribers').replaceChildren(
      stat(t('host.stat_confirmed'), c.subscribers.confirmed), stat(t('host.stat_pending'), c.subscribers.pending),
      stat(t('host.stat_unsubscribed'), c.subscribers.unsubscribed), stat(t('host.stat_sent'), c.mail.sent),
      stat(t('host.stat_queued'), c.mail.queued), stat(t('host.stat_failed'), c.mail.failed),
    );
  } catch (err) {
    $('subscribers').textContent = t('host.load_failed', { error: err instanceof Error ? err.message : String(err) });
  }
}

async function refreshSeries() {
  try {
    const list = await api('GET', '/api/series');
    $('series-list').replaceChildren(...list.map((/** @type {any} */ ser) => el('li', {},
      el('span', {}, t('host.series_words', { title: ser.title, rule: describeRule(ser.rrule, ser.first, ser.timezone) })),
      el('button', {
        class: 'button small danger', type: 'button',
        onclick: async () => {
          if (!confirm(t('host.end_series_confirm', { title: ser.title }))) return;
          await api('DELETE', `/api/series/${ser.id}`).catch((e) => alert(e.message));
          refresh();
        },
      }, t('host.end_series')))));
  } catch {
    $('series-list').replaceChildren();
  }
}

/** @param {import('./protocol.js').Session} s */
function sessionItem(s) {
  const invites = el('ul', { class: 'invites' });
  const name = /** @type {HTMLInputElement} */ (el('input', { placeholder: t('home.name'), 'aria-label': t('host.invite_name', { title: s.title }), maxlength: 80, required: true }));
  const role = /** @type {HTMLSelectElement} */ (el('select', { 'aria-label': t('host.invite_role', { title: s.title }) }, el('option', { value: 'participant' }, t('host.role_participant')), el('option', { value: 'host' }, t('host.role_cohost'))));
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', {
    class: 'inline-form',
    onsubmit: async (/** @type {Event} */ ev) => {
      ev.preventDefault();
      error.textContent = '';
      try {
        const inv = await api('POST', `/api/sessions/${s.id}/invites`, { name: name.value.trim(), role: role.value });
        invites.append(linkRow(role.value === 'host' ? t('host.cohost_name', { name: name.value.trim() }) : name.value.trim(), inv.url));
        name.value = '';
      } catch (err) {
        error.textContent = err instanceof Error ? err.message : String(err);
      }
    },
  }, name, role, el('button', { class: 'button' }, t('host.invite')));
  const kind = s.phase?.kind || 'lobby';
  return el(
    'li',
    { class: 'session' },
    el('h3', {}, s.title),
    el('p', { class: 'when' }, localDateTime(s.starts_at), ' · ', kind === 'lobby' ? t('home.scheduled') : t('home.running', { phase: phaseName(kind) }),
      s.participants ? t('home.here', { n: s.participants }) : ''),
    el('p', { class: 'sub' }, planSummary(s.plan), t('host.capacity_line', { n: s.capacity }),
      t(s.work_video === 'full' ? 'host.work_line_full' : 'host.work_line_presence'), s.private ? t('host.private_line') : ''),
    mailLine(s),
    el('ul', { class: 'invites' }, linkRow(t('host.host_link'), s.host_url || ''), linkRow(t('host.open_link'), s.open_url || '')),
    form,
    error,
    invites,
    el('p', {}, el('button', {
      class: 'button danger',
      onclick: async () => {
        if (!confirm(t('host.cancel_confirm', { title: s.title }))) return;
        try {
          await api('DELETE', `/api/sessions/${s.id}`);
          refresh();
        } catch (err) {
          alert(err instanceof Error ? err.message : String(err));
        }
      },
    }, t('host.cancel'))),
  );
}

/** The session's mail to subscribers, and a button to remind them again. @param {any} s */
function mailLine(s) {
  const m = s.mail || {};
  const parts = [t('host.mail_sent', { n: m.sent || 0 }), t('host.mail_queued', { n: m.queued || 0 })];
  if (m.failed) parts.push(t('host.mail_failed', { n: m.failed }));
  const btn = el('button', { class: 'button small', type: 'button' }, t('host.resend'));
  btn.onclick = async () => {
    if (!confirm(t('host.resend_confirm'))) return;
    try {
      await api('POST', `/api/sessions/${s.id}/remind`);
      btn.textContent = t('host.queued');
      setTimeout(refresh, 1500);
    } catch (err) {
      alert(err instanceof Error ? err.message : String(err));
    }
  };
  return el('p', { class: 'mailline' }, t('host.mail_line', { parts: parts.join(' · ') }), ' ', btn);
}

/** @param {string} label @param {string} url */
function linkRow(label, url) {
  const btn = el('button', { class: 'button small', type: 'button' }, t('host.copy'));
  btn.onclick = () => copy(url, btn);
  return el('li', {}, el('span', {}, label), el('a', { href: url, target: '_blank', rel: 'noopener' }, t('host.open')), btn);
}

function defaultStart() {
  const d = new Date(Date.now() + 15 * 60 * 1000);
  d.setMinutes(Math.ceil(d.getMinutes() / 15) * 15, 0, 0);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Fills the form's title with key's default, naming the weekday of its
 * date field, and keeps it so when the date changes, until the host types
 * a title of their own.
 * @param {HTMLFormElement} form @param {string} field @param {string} key
 */
function suggestTitle(form, field, key) {
  const date = /** @type {HTMLInputElement} */ (form.elements.namedItem(field));
  const title = /** @type {HTMLInputElement} */ (form.elements.namedItem('title'));
  let suggested = '';
  const suggest = () => {
    const day = weekdayOf(date.value);
    if (day < 0 || (title.value && title.value !== suggested)) return;
    suggested = t(key, { day: weekdayName(day) });
    title.value = suggested;
  };
  title.value = '';
  suggest();
  date.addEventListener('input', suggest);
}

function init() {
  const createForm = /** @type {HTMLFormElement} */ ($('create-form'));
  /** @type {HTMLInputElement} */ (createForm.elements.namedItem('starts')).value = defaultStart();
  suggestTitle(createForm, 'starts', 'host.session_default_title');
  createForm.onsubmit = async (ev) => {
    ev.preventDefault();
    $('create-error').textContent = '';
    const f = new FormData(createForm);
    try {
      await api('POST', '/api/sessions', {
        title: String(f.get('title')).trim(),
        starts_at: new Date(String(f.get('starts'))).toISOString(),
        plan: /** @type {any} */ (plans)[String(f.get('plan'))],
        capacity: Number(f.get('capacity')),
        work_video: String(f.get('work_video') || 'presence'),
        private: f.get('private') === 'on',
      });
      refresh();
    } catch (err) {
      $('create-error').textContent = err instanceof Error ? err.message : String(err);
    }
  };
  const seriesForm = /** @type {HTMLFormElement} */ ($('series-form'));
  /** @type {HTMLInputElement} */ (seriesForm.elements.namedItem('first')).value = defaultStart();
  suggestTitle(seriesForm, 'first', 'host.series_default_title');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  $('create-zone').textContent = t('host.in_zone', { zone });
  /** @type {HTMLInputElement} */ (seriesForm.elements.namedItem('timezone')).value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  seriesForm.onsubmit = async (ev) => {
    ev.preventDefault();
    $('series-error').textContent = '';
    const f = new FormData(seriesForm);
    const first = String(f.get('first'));
    const day = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'][weekdayOf(first)];
    const rrule = { weekly: `FREQ=WEEKLY;BYDAY=${day}`, weekdays: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', biweekly: `FREQ=WEEKLY;INTERVAL=2;BYDAY=${day}` }[String(f.get('repeat'))];
    try {
      await api('POST', '/api/series', {
        title: String(f.get('title')).trim(), first, timezone: String(f.get('timezone')).trim(), rrule,
        plan: /** @type {any} */ (plans)[String(f.get('plan'))],
        work_video: String(f.get('work_video') || 'presence'),
        private: f.get('private') === 'on',
      });
      refresh();
    } catch (err) {
      $('series-error').textContent = err instanceof Error ? err.message : String(err);
    }
  };
  /** @type {HTMLFormElement} */ ($('signin-form')).onsubmit = async (ev) => {
    ev.preventDefault();
    key = /** @type {HTMLInputElement} */ ($('key')).value.trim();
    localStorage.setItem('wt.hostKey', key);
    showHosting();
  };
  $('signout').onclick = () => {
    localStorage.removeItem('wt.hostKey');
    key = '';
    showSignin();
  };
  if (key) showHosting();
  else showSignin();
}

init();
