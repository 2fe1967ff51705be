// @ts-check
// The message catalog in the browser: the same files the server speaks from
// (/static/i18n/<lang>.json), loaded before any page script runs (top-level
// await). The language is the one a link names (?lang=, as a subscriber's
// room link does with their choice), else the one chosen with the switch
// (kept in localStorage and in the wt_lang cookie, so server pages follow),
// else the browser's.

export const languages = ['en', 'de'];

function choose() {
  const named = new URLSearchParams(location.search).get('lang');
  if (named && languages.includes(named)) return named;
  const stored = localStorage.getItem('wt.lang') || (/(?:^|;\s*)wt_lang=(\w+)/.exec(document.cookie) || [])[1];
  if (stored && languages.includes(stored)) return stored;
  for (const l of navigator.languages || [navigator.language]) {
    const base = l.toLowerCase().split('-')[0];
    if (languages.includes(base)) return base;
  }
  return languages[0];
}

/** The page's language. */
export const lang = choose();

/** @type {Record<string, string>} */
const messages = await fetch(`/static/i18n/${lang}.json`).then((r) => r.json()).catch(() => ({}));

/**
 * The message key with each {name} replaced from vars; the key itself when
 * the catalog lacks it (so it shows, and the tests catch it).
 * @param {string} key @param {Record<string, string|number>} [vars]
 */
export function t(key, vars = {}) {
  const s = messages[key];
  if (s === undefined) return key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** key.one or key.other for n. @param {string} key @param {number} n @param {Record<string, string|number>} [vars] */
export function plural(key, n, vars = {}) {
  return t(`${key}.${n === 1 ? 'one' : 'other'}`, { n, ...vars });
}

/** Switches the language for this browser and reloads. @param {string} l */
export function switchTo(l) {
  localStorage.setItem('wt.lang', l);
  document.cookie = `wt_lang=${l}; path=/; max-age=31536000; samesite=lax`;
  const url = new URL(location.href);
  if (url.searchParams.has('lang')) {
    url.searchParams.set('lang', l);
    location.replace(url);
  } else location.reload();
}

/**
 * Puts the page's own words in its language: data-i18n (text),
 * data-i18n-placeholder, data-i18n-title, data-i18n-label (aria-label), and
 * a language switch in the header.
 */
function translatePage() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(/** @type {HTMLElement} */ (e).dataset.i18n || '');
  for (const [attr, data] of [['placeholder', 'i18nPlaceholder'], ['title', 'i18nTitle'], ['aria-label', 'i18nLabel']]) {
    for (const e of document.querySelectorAll(`[data-${attr === 'aria-label' ? 'i18n-label' : 'i18n-' + attr}]`)) {
      e.setAttribute(attr, t(/** @type {any} */ (e).dataset[data] || ''));
    }
  }
  const bar = document.querySelector('header.bar');
  if (!bar || bar.querySelector('.lang-switch')) return;
  const nav = document.createElement('nav');
  nav.className = 'lang-switch';
  nav.setAttribute('aria-label', t('lang.switch'));
  for (const l of languages) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.lang = l;
    b.textContent = t(`lang.${l}`);
    if (l === lang) b.setAttribute('aria-current', 'true');
    else b.addEventListener('click', () => switchTo(l));
    nav.append(b);
  }
  bar.append(nav);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', translatePage);
else translatePage();
