// @ts-check
// The room's own controls and what they say: the buttons (mic, camera, hand,
// be right back, self-view, notifications), the keyboard shortcuts, the live
// region for screen readers, browser notifications, and the people list
// with the host's buttons. Pure rendering from what room.js passes in.
import { el, $ } from './ui.js';
import { t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */

/**
 * @param {{work: boolean, hostMuted: boolean, micOn: boolean, camOn: boolean, hand: boolean,
 *          away: boolean, selfHidden: boolean, notifying: boolean}} s
 */
export function renderControls(s) {
  const micBtn = /** @type {HTMLButtonElement} */ ($('mic'));
  const camBtn = /** @type {HTMLButtonElement} */ ($('cam'));
  micBtn.disabled = s.work || s.hostMuted;
  micBtn.title = s.work ? t('room.mic_off_work') : '';
  micBtn.setAttribute('aria-pressed', String(s.micOn && !s.hostMuted));
  micBtn.textContent = s.hostMuted ? t('room.mic_muted_host') : s.micOn ? t('room.mic_on') : t('room.mic_off');
  camBtn.setAttribute('aria-pressed', String(s.camOn));
  camBtn.textContent = s.camOn ? t('room.cam_on') : t('room.cam_off');
  camBtn.disabled = s.away;
  const set = (/** @type {string} */ id, /** @type {boolean} */ pressed, /** @type {string} */ on, /** @type {string} */ off) => {
    const b = $(id);
    b.setAttribute('aria-pressed', String(pressed));
    b.textContent = t(pressed ? on : off);
  };
  set('hand', s.hand, 'room.hand_lower', 'room.hand_raise');
  set('brb', s.away, 'room.brb_back', 'room.brb');
  set('selfview', s.selfHidden, 'room.self_show', 'room.self_hide');
  set('notify', s.notifying, 'room.notify_on', 'room.notify');
}

/** Says text to screen readers (the live region), once. @param {string} text */
export function announce(text) {
  const box = $('announce');
  // What arrives together (a phase change and the turn it opens) is read
  // as one announcement, not the last alone.
  if (box.pending) {
    box.pending.push(text);
    return;
  }
  box.pending = [text];
  box.textContent = '';
  setTimeout(() => {
    box.textContent = box.pending.join(' ');
    box.pending = null;
  }, 50);
}

/**
 * Asks for notifications when needed; resolves to whether they are on now.
 * @param {boolean} on whether they are on before the click
 */
export async function toggleNotifications(on) {
  if (typeof Notification === 'undefined') return false;
  if (!on && Notification.permission === 'default') await Notification.requestPermission().catch(() => 'denied');
  if (Notification.permission !== 'granted') return false;
  return !on;
}

/** A browser notification when the page is in the background. @param {string} title @param {string} body */
export function notify(title, body) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  try {
    new Notification(title, { body, tag: 'wt-phase' });
  } catch {
    // Some browsers allow notifications only from a service worker.
  }
}

/** M, V and H work the mic, camera and hand, outside text fields. */
export function bindShortcuts() {
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || $('inroom').hidden) return;
    const target = /** @type {HTMLElement} */ (ev.target);
    if (target.closest('input, textarea, select, [contenteditable]')) return;
    const button = /** @type {Record<string, string>} */ ({ m: 'mic', v: 'cam', h: 'hand' })[ev.key.toLowerCase()];
    if (!button) return;
    const b = /** @type {HTMLButtonElement} */ ($(button));
    if (b.disabled) return;
    ev.preventDefault();
    b.click();
  });
}

/**
 * The people list; a host's buttons name whom they act on. The button that
 * had the focus has it again after the list is redrawn.
 * @param {Map<string, Participant>} people @param {{id: string, role: string}|null} you
 * @param {(action: string, p: Participant) => void} act
 */
export function renderPeople(people, you, act) {
  const list = $('people');
  const focused = list.contains(document.activeElement) ? document.activeElement?.getAttribute('data-key') : null;
  const isHost = you?.role === 'host';
  const items = [...people.values()].sort((a, b) => Number(b.present) - Number(a.present));
  const button = (/** @type {Participant} */ p, /** @type {string} */ action, /** @type {string} */ label, /** @type {string} */ text) =>
    el('button', { class: 'link', type: 'button', 'data-key': `${action}.${p.id}`, 'aria-label': t(label, { name: p.name }), onclick: () => act(action, p) }, t(text));
  list.replaceChildren(...items.map((p) => el('li', { class: p.present ? 'present' : 'away' },
    el('span', { class: 'dot', title: p.present ? t('people.here') : t('people.away') }),
    el('span', { class: 'who' }, p.name, p.role === 'host' ? el('small', {}, ' ', t('people.host')) : null, p.id === you?.id ? el('small', {}, ' ', t('people.you')) : null,
      p.present && p.hand ? el('small', { class: 'hand-mark' }, ' ', t('tile.hand')) : null,
      p.present && p.away ? el('small', {}, ' ', t('tile.away')) : null,
      // The microphone, also of people not on the page of tiles shown.
      p.present && p.id !== you?.id && (p.muted || typeof p.mic === 'boolean')
        ? el('small', { class: 'mic-mark', 'data-mic': p.muted ? 'host' : p.mic ? 'on' : 'off' }, ' ', t(p.muted ? 'tile.muted_by_host' : p.mic ? 'tile.mic_on' : 'tile.mic_off'))
        : null,
      p.commitment ? el('ol', { class: 'tasks' }, ...p.commitment.tasks.map((task, i) =>
        el('li', { class: p.report ? (p.report.done[i] ? 'done' : 'not-done') : '' }, task))) : null,
      p.report?.note ? el('blockquote', {}, p.report.note) : null),
    isHost && p.id !== you?.id && p.present
      ? el('span', { class: 'actions' },
          p.muted ? button(p, 'unmute', 'people.unmute_name', 'people.unmute') : button(p, 'mute', 'people.mute_name', 'people.mute'),
          p.role !== 'host' ? button(p, 'remove', 'people.remove_name', 'people.remove') : null)
      : null)));
  if (focused) {
    const [action, id] = focused.split('.');
    const again = list.querySelector(`[data-key="${action}.${id}"]`) ||
      list.querySelector(`[data-key="${action === 'mute' ? 'unmute' : action === 'unmute' ? 'mute' : action}.${id}"]`);
    /** @type {HTMLElement|null} */ (again)?.focus();
  }
}
