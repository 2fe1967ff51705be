// @ts-check
// Pages of tiles for a big room: the stage shows at most a page of the
// remote tiles that fit it (up to 9 on a laptop, 6 on a phone, counting the
// own tile), the pinned tile and the current speaker on every page, and
// "previous / next page" controls. Tiles off the page are hidden, and
// tiles.js then tells the server they are not visible, so it sends them no
// video (their audio still comes, each publisher on its own section). No
// knowledge of the room here: grid.js asks what is on the page.

/** The most tiles a page holds, and on a phone. */
export const MAX_PAGE = 9;
export const PHONE_PAGE = 6;
/** The smallest tile a page is made of on a wide stage, CSS pixels. */
const MIN_WIDTH = 240;

/**
 * How many tiles (the own one included) a page of a stage this size holds.
 * @param {number} width @param {number} height the stage, CSS pixels
 * @param {boolean} phone the phone layout (two columns)
 * @param {number} gap between tiles
 */
export function pageSize(width, height, phone, gap) {
  if (phone) return PHONE_PAGE;
  if (width <= 0 || height <= 0) return MAX_PAGE;
  const cols = Math.max(1, Math.floor((width + gap) / (MIN_WIDTH + gap)));
  const rows = Math.max(1, Math.floor((height + gap) / (MIN_WIDTH * 9 / 16 + gap)));
  return Math.max(2, Math.min(MAX_PAGE, cols * rows));
}

/**
 * Which remote tiles one page shows.
 * @param {string[]} ids the remote tiles, in their order
 * @param {string[]} sticky tiles on every page (the pinned one, the speaker), if among ids
 * @param {number} cap remote tiles a page holds (at least 1)
 * @param {number} page the page asked for, from 0 (held within the pages there are)
 * @returns {{shown: Set<string>, page: number, pages: number}}
 */
export function paginate(ids, sticky, cap, page) {
  cap = Math.max(1, cap);
  if (ids.length <= cap) return { shown: new Set(ids), page: 0, pages: 1 };
  const keep = [...new Set(sticky.filter((id) => ids.includes(id)))].slice(0, cap - 1);
  const rest = ids.filter((id) => !keep.includes(id));
  const per = cap - keep.length;
  const pages = Math.ceil(rest.length / per);
  const p = Math.min(Math.max(0, page), pages - 1);
  return { shown: new Set([...keep, ...rest.slice(p * per, (p + 1) * per)]), page: p, pages };
}
