// @ts-check
/**
 * Which rows of a long list a scrolled viewport shows: the list keeps every id (in robot-id order,
 * digits compared as numbers: robot2 before robot10), the page builds DOM rows for the visible
 * window only (plus a few above and below, so a scroll of a row or two needs no new rows first).
 * Rows have one fixed height; spacers above and below keep the scrollbar true to the whole list.
 * No DOM here, so it is tested under Node.
 */

const collator = new Intl.Collator(undefined, { numeric: true });

export class VirtualRows {
  /** @param {number} rowHeight px, > 0 @param {number} [overscan] rows drawn beyond each edge */
  constructor(rowHeight, overscan = 4) {
    if (!(rowHeight > 0)) throw new RangeError(`row height ${rowHeight} px must be positive`);
    this.rowHeight = rowHeight;
    this.overscan = overscan;
    /** @type {string[]} */
    this.ids = [];
    /** @type {Set<string>} */
    this.known = new Set();
  }

  /** Adds `id` in order; false when it is already there. @param {string} id */
  add(id) {
    if (this.known.has(id)) return false;
    this.known.add(id);
    let lo = 0, hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (collator.compare(/** @type {string} */ (this.ids[mid]), id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.ids.splice(lo, 0, id);
    return true;
  }

  /** @param {string} id */
  indexOf(id) {
    return this.ids.indexOf(id);
  }

  /**
   * The rows to draw for a viewport `height` px tall, scrolled `scrollTop` px into the list:
   * ids[first..end), and the spacer heights above and below them.
   * @param {number} scrollTop @param {number} height
   * @returns {{ first: number, end: number, top: number, bottom: number }}
   */
  range(scrollTop, height) {
    const n = this.ids.length;
    const h = this.rowHeight;
    const first = Math.max(0, Math.min(n, Math.floor(Math.max(0, scrollTop) / h) - this.overscan));
    const end = Math.max(first, Math.min(n, Math.ceil((Math.max(0, scrollTop) + Math.max(0, height)) / h) + this.overscan));
    return { first, end, top: first * h, bottom: (n - end) * h };
  }
}
