// @ts-check
// What each remote tile shows (protocol v2's tiles message): whether it is
// on screen, how large it is in device pixels, and whether it is pinned.
// The server sends each tile only the layer that fits, and none to a tile
// out of view or off the page shown (pages.js), so a big room costs only
// what is seen.

/** @typedef {{participant: string, visible: boolean, width: number, height: number, pinned: boolean}} TileView */

export class TileWatcher {
  /** @param {(changed: TileView[]) => void} report */
  constructor(report) {
    this.report = report;
    /** @type {Map<string, {el: Element, visible: boolean, off: boolean, width: number, height: number, pinned: boolean}>} */
    this.tiles = new Map();
    /** @type {Map<string, string>} what was last reported, by participant */
    this.sent = new Map();
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.intersect = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const t = this.byElement(e.target);
        if (t) t.visible = e.isIntersecting;
      }
      this.schedule();
    });
    this.resize = new ResizeObserver((entries) => {
      for (const e of entries) {
        const t = this.byElement(e.target);
        if (!t) continue;
        const box = e.contentRect;
        t.width = Math.round(box.width * devicePixelRatio);
        t.height = Math.round(box.height * devicePixelRatio);
      }
      this.schedule();
    });
  }

  /** @param {Element} el */
  byElement(el) {
    for (const t of this.tiles.values()) if (t.el === el) return t;
    return undefined;
  }

  /** @param {string} id @param {Element} el */
  watch(id, el) {
    if (this.tiles.get(id)?.el === el) return;
    this.forget(id);
    this.tiles.set(id, { el, visible: false, off: false, width: 0, height: 0, pinned: false });
    this.intersect.observe(el);
    this.resize.observe(el);
  }

  /** @param {string} id */
  forget(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    this.intersect.unobserve(t.el);
    this.resize.unobserve(t.el);
    this.tiles.delete(id);
    this.sent.delete(id);
  }

  /** @param {string} id @param {boolean} pinned */
  pin(id, pinned) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.pinned = pinned;
    this.schedule();
  }

  /**
   * A tile left the page shown (pages.js), or came back on it: off the
   * page it is not visible, whatever the observers say.
   * @param {string} id @param {boolean} off
   */
  offPage(id, off) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.off = off;
    this.schedule();
  }

  /** Says everything again, e.g. on a new connection. */
  resend() {
    this.sent.clear();
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 150);
  }

  flush() {
    /** @type {TileView[]} */
    const changed = [];
    for (const [participant, t] of this.tiles) {
      const view = { participant, visible: t.visible && !t.off && t.width > 0, width: t.width, height: t.height, pinned: t.pinned };
      const key = JSON.stringify(view);
      if (this.sent.get(participant) === key) continue;
      this.sent.set(participant, key);
      changed.push(view);
    }
    if (changed.length) this.report(changed);
  }
}
