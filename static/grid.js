// @ts-check
// The room's tiles: one per person present, laid out to fill the stage for
// any count, each showing the person's name, their microphone (on, off,
// quiet, muted by the host), a raised hand, "be right back" and who speaks
// in a round, and a video the server holds back because this connection has
// no room for it. A big room is shown a page at a time (pages.js). room.js
// owns the state; this draws it.
import { el, initials } from './ui.js';
import { t } from './i18n.js';
import { pageSize, paginate } from './pages.js';

/**
 * @typedef {{root: HTMLElement, video: HTMLVideoElement, audio: HTMLAudioElement, name: HTMLElement, badge: HTMLElement,
 *            hand: HTMLElement, note: HTMLElement, paused: HTMLElement, stream: MediaStream|null}} Tile
 * @typedef {{id: string, name: string, self: boolean, mic: boolean|null, hostMuted: boolean,
 *            quiet: boolean, hasVideo: boolean, hand: boolean, away: boolean, speaking: boolean,
 *            paused: boolean, tasks: string[], done: boolean[]}} TileView
 */

/** The gap between tiles, as in style.css. */
const GAP = 12;

export class TileGrid {
  /**
   * @param {HTMLElement} box the #tiles element
   * @param {(id: string) => TileView} view what a tile shows now
   * @param {(id: string, root: HTMLElement) => void} onRemote a remote tile was made
   * @param {(id: string, pinned: boolean) => void} onPin
   * @param {{nav: HTMLElement, prev: HTMLButtonElement, next: HTMLButtonElement, status: HTMLElement}} pager
   * @param {(id: string, off: boolean) => void} onPage a remote tile left the page, or came on it
   */
  constructor(box, view, onRemote, onPin, pager, onPage) {
    this.box = box;
    this.view = view;
    this.onRemote = onRemote;
    this.onPin = onPin;
    this.pager = pager;
    this.onPage = onPage;
    /** The page shown, from 0. */
    this.page = 0;
    /** The current speaker in a round, kept on every page ('' for none). */
    this.speaker = '';
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    pager.prev.addEventListener('click', () => this.turnPage(-1));
    pager.next.addEventListener('click', () => this.turnPage(1));
    new ResizeObserver(() => this.layout()).observe(box);
  }

  /** @param {number} by */
  turnPage(by) {
    this.page += by;
    this.layout();
  }

  /**
   * Hides the remote tiles that are not on the page shown now, and says
   * which page that is.
   */
  paginate() {
    const phone = matchMedia('(max-width: 760px)').matches;
    const size = pageSize(this.box.clientWidth - 2 * GAP, this.box.clientHeight - 2 * GAP, phone, GAP);
    /** @type {string[]} */
    const remote = [];
    let selfShown = false;
    let pinned = '';
    for (const [id, tile] of this.tiles) {
      if (tile.root.classList.contains('self')) selfShown = !tile.root.classList.contains('self-hidden');
      else {
        remote.push(id);
        if (tile.root.classList.contains('pinned')) pinned = id;
      }
    }
    const { shown, page, pages } = paginate(remote, [pinned, this.speaker], size - (selfShown ? 1 : 0), this.page);
    this.page = page;
    for (const id of remote) {
      const tile = /** @type {Tile} */ (this.tiles.get(id));
      const off = !shown.has(id);
      if (tile.root.classList.contains('off-page') === off) continue;
      tile.root.classList.toggle('off-page', off);
      this.onPage(id, off);
    }
    const { nav, prev, next, status } = this.pager;
    nav.hidden = pages <= 1;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    const text = pages > 1 ? t('pager.status', { n: page + 1, total: pages }) : '';
    if (status.textContent !== text) status.textContent = text;
  }

  /** @param {string} id @param {boolean} self @param {MediaStream|null} selfStream */
  ensure(id, self, selfStream) {
    let tile = this.tiles.get(id);
    if (tile) return tile;
    const video = /** @type {HTMLVideoElement} */ (el('video', { autoplay: true, playsInline: true }));
    const name = el('span', { class: 'name' });
    const badge = el('span', { class: 'badge', hidden: true });
    const hand = el('span', { class: 'hand', hidden: true }, t('tile.hand'));
    const note = el('p', { class: 'away-note', hidden: true }, t('tile.away'));
    const paused = el('p', { class: 'paused-note', hidden: true }, t('tile.paused'));
    const avatar = el('div', { class: 'avatar', 'aria-hidden': 'true' });
    const root = el('figure', { class: 'tile', 'data-participant': id }, video, avatar, note, paused, el('figcaption', {}, name, badge, hand));
    // The voice plays on an element of its own: a video element waits for
    // a picture, and a tile off the page gets none.
    const audio = /** @type {HTMLAudioElement} */ (el('audio', { autoplay: true }));
    tile = { root, video, audio, name, badge, hand, note, paused, stream: null };
    if (self) {
      root.classList.add('self');
      video.muted = true;
      video.srcObject = selfStream;
      tile.stream = selfStream;
    } else {
      video.muted = true;
      root.append(audio);
      // A click on the tile, or its button, enlarges it.
      const pin = /** @type {HTMLButtonElement} */ (el('button', { class: 'pin', type: 'button', 'aria-pressed': 'false' }));
      root.append(pin);
      root.addEventListener('click', () => this.togglePin(id));
      this.onRemote(id, root);
    }
    this.tiles.set(id, tile);
    if (self) this.box.prepend(root);
    else this.box.append(root);
    this.update(id);
    this.layout();
    return tile;
  }

  /** @param {string} id */
  togglePin(id) {
    const root = this.tiles.get(id)?.root;
    if (!root) return;
    const pinned = !root.classList.contains('pinned');
    for (const [other, tile] of this.tiles) {
      if (other !== id && tile.root.classList.contains('pinned')) {
        tile.root.classList.remove('pinned');
        this.onPin(other, false);
      }
    }
    root.classList.toggle('pinned', pinned);
    this.onPin(id, pinned);
    this.updateAll();
    this.layout();
  }

  /** @param {string} id */
  remove(id) {
    this.tiles.get(id)?.root.remove();
    this.tiles.delete(id);
    this.layout();
  }

  updateAll() {
    for (const id of this.tiles.keys()) this.update(id);
  }

  /** @param {string} id */
  update(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const v = this.view(id);
    const name = v.name || '…';
    tile.name.textContent = v.self ? t('room.you_name', { name }) : name;
    const pin = tile.root.querySelector('button.pin');
    if (pin) {
      const pinned = tile.root.classList.contains('pinned');
      pin.textContent = t(pinned ? 'room.shrink_short' : 'room.enlarge_short');
      pin.setAttribute('aria-label', t(pinned ? 'room.shrink' : 'room.enlarge', { name }));
      pin.setAttribute('aria-pressed', String(pinned));
    }
    /** @type {HTMLElement} */ (tile.root.querySelector('.avatar')).textContent = initials(name);
    tile.root.classList.toggle('novideo', !v.hasVideo || v.away);
    tile.root.classList.toggle('away', v.away);
    tile.root.classList.toggle('speaking', v.speaking);
    tile.note.hidden = !v.away;
    // The last picture stays, dimmed, with the reason on it.
    tile.root.classList.toggle('bandwidth-paused', v.paused && !v.away);
    tile.paused.hidden = !v.paused || v.away;
    tile.hand.hidden = !v.hand;
    // The microphone, always: what the server enforces first, then what
    // the person said (nothing for a client that never says).
    const state = v.hostMuted ? 'host' : v.quiet ? 'quiet' : v.mic === null ? '' : v.mic ? 'on' : 'off';
    tile.badge.hidden = state === '';
    tile.badge.dataset.mic = state;
    tile.badge.textContent = { host: t('tile.muted_by_host'), quiet: t('tile.quiet'), on: t('tile.mic_on'), off: t('tile.mic_off'), '': '' }[state];
    let list = /** @type {HTMLElement|null} */ (tile.root.querySelector('.tile-tasks'));
    if (!list) {
      list = el('ul', { class: 'tile-tasks' });
      tile.root.append(list);
    }
    const tasks = v.tasks;
    list.replaceChildren(...tasks.slice(0, 3).map((s, i) => el('li', { class: v.done[i] ? 'done' : '' }, s)),
      tasks.length > 3 ? el('li', { class: 'more' }, t('tile.more', { n: tasks.length - 3 })) : '');
    list.hidden = tasks.length === 0;
  }

  /**
   * Sizes the tiles so that they fill the stage: the number of columns
   * that gives the largest 16:9 tile for the count. Phones keep the
   * stylesheet's two columns and scroll.
   */
  layout() {
    this.paginate();
    const shown = [...this.tiles.values()].filter((tile) => !tile.root.classList.contains('self-hidden') && !tile.root.classList.contains('off-page'));
    const n = shown.length + shown.filter((tile) => tile.root.classList.contains('pinned')).length * 3;
    const w = this.box.clientWidth - 2 * GAP;
    const h = this.box.clientHeight - 2 * GAP;
    if (n === 0 || w <= 0 || h <= 0 || matchMedia('(max-width: 760px)').matches) {
      this.box.style.removeProperty('grid-template-columns');
      return;
    }
    let best = { cols: 1, width: 0 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const width = Math.min((w - GAP * (cols - 1)) / cols, ((h - GAP * (rows - 1)) / rows) * 16 / 9);
      if (width > best.width) best = { cols, width };
    }
    const cols = Math.min(best.cols, shown.length || 1);
    this.box.style.setProperty('grid-template-columns', `repeat(${cols}, ${Math.floor(Math.max(160, best.width))}px)`);
  }
}
