// @ts-check
// The room page's views and messages: which view shows, the notice for a
// room that is left or never entered (what happened, what to do next), the
// connection status and short toasts. DOM only; room.js decides when.
import { el, $ } from './ui.js';
import { t } from './i18n.js';
import { ByeReason } from './protocol.js';

/** Shows one of the page's main views. @param {string} id */
export function show(id) {
  for (const v of ['notice', 'loading', 'guest', 'prejoin', 'inroom']) $(v).hidden = v !== id;
}

/**
 * The room is left, or never entered: what happened, what to do next.
 * @param {{title: string, text: string, action?: HTMLElement, history?: HTMLElement, next?: string}} n
 */
export function showNotice(n) {
  $('notice-title').textContent = n.title;
  $('notice-text').textContent = n.text;
  $('notice-next').textContent = n.next || '';
  $('notice-next').hidden = !n.next;
  // No countdown for a room that is left.
  $('phase').hidden = true;
  $('notice-history').replaceChildren(...(n.history ? [n.history] : []));
  const box = $('notice');
  box.querySelector('.extra')?.remove();
  if (n.action) box.append(el('p', { class: 'extra' }, n.action));
  $('status').hidden = true; // the room is left: no connection to speak of
  document.title = `${n.title} · Worktogether`;
  $('toast').hidden = true;
  show('notice');
}

/** The title and text for a bye the server sent. @param {string} reason */
export function byeText(reason) {
  const texts = {
    [ByeReason.ended]: [t('room.ended'), t('room.thanks')],
    [ByeReason.removed]: [t('room.removed'), t('room.removed_text')],
    [ByeReason.replaced]: [t('room.replaced'), t('room.replaced_text')],
    [ByeReason.cancelled]: [t('room.cancelled'), t('room.cancelled_text')],
  };
  return texts[reason] || [t('room.left'), ''];
}

/** @param {string} status @param {string} text */
export function setStatus(status, text) {
  const s = $('status');
  s.dataset.status = status;
  s.textContent = text;
}

/** @param {string} text */
export function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(/** @type {any} */ (box).timer);
  /** @type {any} */ (box).timer = setTimeout(() => (box.hidden = true), 5000);
}
