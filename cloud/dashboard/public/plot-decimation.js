// @ts-check
/**
 * Plot columns decimated to the pixels a chart has: a line chart of `pixels` columns cannot show
 * more than a low and a high per column, so samples are bucketed by time into `pixels` buckets
 * and each bucket gives at most two points per series, its minimum and its maximum in the order
 * they occurred (the envelope and every spike survive; the points in between are invisible
 * anyway). All series share the x values, as uPlot wants: a bucket's two points sit at the times
 * of its first and last sample. Below 2 × pixels samples the data goes out as it is.
 * No DOM: it runs in the telemetry worker and in tests under Node.
 */

/**
 * @typedef {{ capacity: number, width: number, times: Float64Array, values: Float32Array, count: number, next: number }} RingLike
 */

/**
 * Oldest-first [times, ...columns] of `ring`, at most 2 × `pixels` points, NaN as null (a gap),
 * each value multiplied by `scale`.
 * @param {RingLike} ring
 * @param {readonly number[]} columns value columns of the ring, in order
 * @param {number} pixels the chart's plotting width in CSS pixels
 * @param {number} [scale]
 * @returns {(number | null)[][]}
 */
export function decimatedColumns(ring, columns, pixels, scale = 1) {
  const n = ring.count;
  const start = (ring.next - n + ring.capacity) % ring.capacity;
  const at = (/** @type {number} */ j) => (start + j) % ring.capacity;
  const value = (/** @type {number} */ i, /** @type {number} */ c) => /** @type {number} */ (ring.values[i * ring.width + /** @type {number} */ (columns[c])]);
  const px = Math.max(1, Math.floor(pixels));
  /** @type {(number | null)[][]} */
  const out = [[]];
  for (let c = 0; c < columns.length; c++) out.push([]);
  const t0 = n > 0 ? /** @type {number} */ (ring.times[at(0)]) : 0;
  const t1 = n > 0 ? /** @type {number} */ (ring.times[at(n - 1)]) : 0;
  const pushPoint = (/** @type {number} */ t, /** @type {(c: number) => number} */ v) => {
    /** @type {(number | null)[]} */ (out[0]).push(t);
    for (let c = 0; c < columns.length; c++) {
      const x = v(c);
      /** @type {(number | null)[]} */ (out[c + 1]).push(Number.isNaN(x) ? null : x * scale);
    }
  };
  if (n <= 2 * px || !(t1 > t0)) {
    for (let j = 0; j < n; j++) { const i = at(j); pushPoint(/** @type {number} */ (ring.times[i]), (c) => value(i, c)); }
    return out;
  }
  const bucketS = (t1 - t0) / px;
  // Per series: the bucket's min and max and the sample index (order) where each occurred.
  const lo = new Float64Array(columns.length), hi = new Float64Array(columns.length);
  const loAt = new Int32Array(columns.length), hiAt = new Int32Array(columns.length);
  let j = 0;
  while (j < n) {
    const first = j;
    const bucket = Math.min(px - 1, Math.floor((/** @type {number} */ (ring.times[at(j)]) - t0) / bucketS));
    lo.fill(Number.NaN); hi.fill(Number.NaN);
    for (; j < n; j++) {
      const i = at(j);
      if (j > first && Math.min(px - 1, Math.floor((/** @type {number} */ (ring.times[i]) - t0) / bucketS)) !== bucket) break;
      for (let c = 0; c < columns.length; c++) {
        const x = value(i, c);
        if (Number.isNaN(x)) continue;
        if (!(x >= /** @type {number} */ (lo[c]))) { lo[c] = x; loAt[c] = j; }
        if (!(x <= /** @type {number} */ (hi[c]))) { hi[c] = x; hiAt[c] = j; }
      }
    }
    const last = j - 1;
    const tFirst = /** @type {number} */ (ring.times[at(first)]);
    if (last === first) { pushPoint(tFirst, (c) => /** @type {number} */ (lo[c])); continue; }
    // The earlier of min and max first, so the line runs through both in the order they happened.
    pushPoint(tFirst, (c) => /** @type {number} */ ((/** @type {number} */ (loAt[c]) <= /** @type {number} */ (hiAt[c]) ? lo : hi)[c]));
    pushPoint(/** @type {number} */ (ring.times[at(last)]), (c) => /** @type {number} */ ((/** @type {number} */ (loAt[c]) <= /** @type {number} */ (hiAt[c]) ? hi : lo)[c]));
  }
  return out;
}
