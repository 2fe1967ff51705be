// @ts-check
// Small DOM and formatting helpers shared by the pages.
import { t, lang } from './i18n.js';

/**
 * Makes an element: el('div', {class: 'x', onclick: f}, child, 'text').
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'style') e.style.cssText = String(v); // CSSOM: the CSP refuses style attributes
    else if (k in e && typeof v !== 'string') /** @type {any} */ (e)[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c);
  }
  return e;
}

/** @param {string} id */
export function $(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id}`);
  return e;
}

/** @param {string} kind */
export function phaseName(kind) {
  return t(`phase.${kind}`);
}

/** @param {number} seconds */
export function minutes(seconds) {
  if (seconds < 60) return t('unit.seconds', { n: seconds });
  const m = Math.round(seconds / 60);
  return m >= 60 && m % 60 === 0 ? t('unit.hours', { n: m / 60 }) : t('unit.minutes', { n: m });
}

/** @param {{kind: string, seconds: number}[]} plan */
export function planSummary(plan) {
  return plan.map((p) => t('plan.part', { length: minutes(p.seconds), phase: phaseName(p.kind) })).join(' · ');
}

/** @param {string} iso */
export function localDateTime(iso) {
  return new Date(iso).toLocaleString(lang, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
}

/** Countdown text for milliseconds left: 4:05, 1:02:03. @param {number} ms */
export function clock(ms) {
  const s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** @param {string} name */
export function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

/**
 * Copies text, falling back to selecting it when the clipboard is refused.
 * @param {string} text
 * @param {HTMLElement} button shows "Copied" for a moment
 */
export async function copy(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = t('ui.copied');
  } catch {
    window.prompt(t('ui.copy_prompt'), text);
  }
  setTimeout(() => (button.textContent = label), 1500);
}
