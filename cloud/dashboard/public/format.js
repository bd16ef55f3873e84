// @ts-check
/** Text for the page's cells; '—' stands for "not known". */

/** @param {unknown} v @param {number} [digits] @param {string} [unit] */
export function num(v, digits = 1, unit = '') {
  return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '—';
}

/** @param {number} epochMs */
export function clock(epochMs) {
  const d = new Date(epochMs);
  const p = (/** @type {number} */ n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** @param {number} ms */
export function age(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms ago`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}
