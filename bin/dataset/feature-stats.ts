/**
 * Per-feature statistics as LeRobot v3.0 keeps them (meta/stats.json and the `stats/<feature>/<stat>`
 * columns of the episodes table): min, max, mean, std (population), count, and the quantiles
 * q01, q10, q50, q90, q99 that lerobot's current v3 writer adds for quantile normalisation.
 *
 * Per episode every statistic is exact (quantiles interpolate linearly between order statistics,
 * numpy's default). Over the dataset, min/max/mean/std/count are exact (std by the parallel
 * variance formula); quantiles are the count-weighted mean of the episodes' quantiles, as lerobot's
 * aggregation does: exact ones would need every frame of the dataset in memory at once.
 */
export const QUANTILES = [
  ['q01', 0.01],
  ['q10', 0.1],
  ['q50', 0.5],
  ['q90', 0.9],
  ['q99', 0.99],
] as const;

export type StatName = 'min' | 'max' | 'mean' | 'std' | 'count' | (typeof QUANTILES)[number][0];
export const STAT_NAMES: readonly StatName[] = ['min', 'max', 'mean', 'std', 'count', ...QUANTILES.map(([k]) => k)];

export type FeatureStats = Record<StatName, number[]>;

/** Linear-interpolated quantile of sorted values (numpy's default method). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

/** Stats of `rows` rows of `dim` values each, row-major in `values`. */
export function columnStats(values: ArrayLike<number>, rows: number, dim: number): FeatureStats {
  if (rows <= 0) throw new RangeError('statistics of an empty column');
  const out: FeatureStats = { min: [], max: [], mean: [], std: [], count: [rows], q01: [], q10: [], q50: [], q90: [], q99: [] };
  const col = new Float64Array(rows);
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const v = values[r * dim + d] as number;
      col[r] = v;
      sum += v;
    }
    const mean = sum / rows;
    let ss = 0;
    for (let r = 0; r < rows; r++) ss += ((col[r] as number) - mean) ** 2;
    col.sort();
    out.min.push(col[0] as number);
    out.max.push(col[rows - 1] as number);
    out.mean.push(mean);
    out.std.push(Math.sqrt(ss / rows));
    for (const [k, q] of QUANTILES) out[k].push(quantileOfSorted(col, q));
  }
  return out;
}

/** Dataset stats from episode stats (see the file comment for what is exact). */
export function aggregateStats(list: readonly FeatureStats[]): FeatureStats {
  const first = list[0];
  if (first === undefined) throw new RangeError('aggregate of no statistics');
  const dim = first.mean.length;
  const total = list.reduce((s, x) => s + (x.count[0] as number), 0);
  const out: FeatureStats = { min: [], max: [], mean: [], std: [], count: [total], q01: [], q10: [], q50: [], q90: [], q99: [] };
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (const s of list) mean += (s.mean[d] as number) * (s.count[0] as number);
    mean /= total;
    let variance = 0;
    for (const s of list) variance += ((s.std[d] as number) ** 2 + ((s.mean[d] as number) - mean) ** 2) * (s.count[0] as number);
    out.min.push(Math.min(...list.map((s) => s.min[d] as number)));
    out.max.push(Math.max(...list.map((s) => s.max[d] as number)));
    out.mean.push(mean);
    out.std.push(Math.sqrt(variance / total));
    for (const [k] of QUANTILES) {
      let q = 0;
      for (const s of list) q += (s[k][d] as number) * (s.count[0] as number);
      out[k].push(q / total);
    }
  }
  return out;
}
