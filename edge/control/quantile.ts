/**
 * Nearest-rank quantile of the first `n` values of a scratch array, by selection (Hoare partition,
 * median-of-three pivot): O(n) on average, no allocation, no sort. The first `n` values are
 * reordered; the caller owns the scratch. Values must be finite (NaN breaks the ordering).
 */

/** The value of rank ceil(q·n) (1-based, clamped to 1..n) among a[0..n); q in [0, 1], n >= 1. */
export function quantileInPlace(a: Float64Array, n: number, q: number): number {
  if (!(n >= 1 && n <= a.length)) throw new RangeError(`quantileInPlace: n=${n} outside 1..${a.length}`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileInPlace: q=${q} outside 0..1`);
  const k = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Median of three into a[mid]: guards against sorted and reverse-sorted runs.
    if ((a[mid] as number) < (a[lo] as number)) swap(a, mid, lo);
    if ((a[hi] as number) < (a[lo] as number)) swap(a, hi, lo);
    if ((a[hi] as number) < (a[mid] as number)) swap(a, hi, mid);
    const pivot = a[mid] as number;
    let i = lo;
    let j = hi;
    // Invariant after each pass: a[lo..i) <= pivot <= a(j..hi].
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number; // j < k < i: a[k] equals the pivot
  }
  return a[k] as number;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}
