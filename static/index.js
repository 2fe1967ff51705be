// @ts-check
// The landing page: upcoming and running sessions.
import { el, $, localDateTime, planSummary, phaseName, minutes } from './ui.js';
import { t, lang } from './i18n.js';

async function load() {
  const state = $('sessions-state');
  let list;
  try {
    const resp = await fetch('/api/sessions', { cache: 'no-store' });
    if (!resp.ok) throw new Error(t('ui.server_answered', { status: resp.status }));
    list = await resp.json();
  } catch (err) {
    state.textContent = t('home.load_failed', { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  state.textContent = list.length ? '' : t('home.none');
  $('sessions').replaceChildren(
    ...list.map((/** @type {import('./protocol.js').Session} */ s) => {
      const kind = s.phase?.kind || 'lobby';
      const running = kind !== 'lobby';
      const total = s.plan.reduce((n, p) => n + p.seconds, 0);
      return el(
        'li',
        { class: 'session' },
        el('h3', {}, s.title),
        el('p', { class: 'when' }, localDateTime(s.starts_at), ` · ${minutes(total)}`),
        el('p', { class: 'sub' }, planSummary(s.plan)),
        el('p', { class: running ? 'live' : 'sub' },
          running ? t('home.running', { phase: phaseName(kind) }) : t('home.scheduled'),
          s.participants ? t('home.here', { n: s.participants }) : ''),
      );
    }),
  );
}

function subscribeForm() {
  const form = /** @type {HTMLFormElement} */ ($('subscribe-form'));
  const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  field('timezone').value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  field('lang').value = lang;
  const result = $('subscribe-result');
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
    button.disabled = true;
    result.className = '';
    result.textContent = t('home.sending');
    try {
      const resp = await fetch('/api/subscribe', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: field('email').value.trim(), name: field('name').value.trim(), lang: field('lang').value, timezone: field('timezone').value.trim() }),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(body?.error?.message || t('ui.server_answered', { status: resp.status }));
      result.className = 'ok';
      result.textContent = t('home.check_inbox', { message: body.message });
      const chosen = field('lang').value;
      form.reset();
      field('lang').value = chosen; // the sign-up form keeps the language chosen
      field('timezone').value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    } catch (err) {
      result.className = 'error';
      result.textContent = err instanceof Error ? err.message : String(err);
    } finally {
      button.disabled = false;
    }
  };
}

subscribeForm();
load();
setInterval(load, 30000);
