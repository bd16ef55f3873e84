/**
 * A fixed pool of chunk slots (no allocation after construction). A chunk is a [H, A] action
 * array in robot units (rad) aligned in host time: row h is the target for originUs + (h+1)·stepUs,
 * where originUs is the capture time of the observation it was computed from. Sampling between
 * rows interpolates with a cubic Hermite (Catmull-Rom) spline, so the sampled velocity is
 * continuous across rows: linear interpolation steps the velocity at every row, which at a 200 Hz
 * tick and 20 ms rows hit the acceleration clamp on every accelerating row (measured with
 * `spinal eval`). Between the chunk's origin and row 0 it continues the first rows backwards (the
 * quadratic through rows 0, 1 and 2: the chunk starts where the robot was at its origin); holding
 * row 0 there instead made every chunk jump a row ahead when it arrived and wait, a velocity dip
 * at every switch. After the last row the chunk no longer covers the time. A chunk may have fewer
 * rows than the store's horizon (an action chunk from a policy server covers what it covers).
 */
export interface ChunkSlot {
  /** Row-major [H, A]. */
  readonly actions: Float64Array;
  /** Rows in use, 1..horizon. */
  rows: number;
  originUs: number;
  /** µs at which the scheduler took it over (its switch time). */
  acceptedUs: number;
  /** Arrival order; larger is newer. */
  order: number;
  live: boolean;
}

export class ChunkStore {
  readonly slots: ChunkSlot[];
  private nextOrder = 1;

  constructor(capacity: number, private readonly horizon: number, private readonly dim: number, private readonly stepUs: number) {
    this.slots = Array.from({ length: capacity }, () => ({ actions: new Float64Array(horizon * dim), rows: horizon, originUs: 0, acceptedUs: 0, order: 0, live: false }));
  }

  /** µs after which `s` covers nothing. */
  endUs(s: ChunkSlot): number {
    return s.originUs + s.rows * this.stepUs;
  }

  covers(s: ChunkSlot, tUs: number): boolean {
    return s.live && tUs <= this.endUs(s);
  }

  /** Stores a chunk of actions.length / dim rows (1..horizon), reusing a dead slot or else the
   * oldest. Returns the slot. */
  put(actions: ArrayLike<number>, originUs: number, acceptedUs: number): ChunkSlot {
    let slot: ChunkSlot | undefined;
    for (const s of this.slots) {
      if (!s.live) { slot = s; break; }
      if (slot === undefined || s.order < slot.order) slot = s;
    }
    const s = slot as ChunkSlot;
    for (let i = 0; i < actions.length; i++) s.actions[i] = actions[i] as number;
    s.rows = actions.length / this.dim;
    s.originUs = originUs;
    s.acceptedUs = acceptedUs;
    s.order = this.nextOrder++;
    s.live = true;
    return s;
  }

  /** Marks chunks that no longer cover `tUs` dead. */
  expire(tUs: number): void {
    for (const s of this.slots) if (s.live && tUs > this.endUs(s)) s.live = false;
  }

  /** The newest live chunk, or null. */
  newest(): ChunkSlot | null {
    let best: ChunkSlot | null = null;
    for (const s of this.slots) if (s.live && (best === null || s.order > best.order)) best = s;
    return best;
  }

  /** The newest live chunk older than `than`, or null. */
  previous(than: ChunkSlot): ChunkSlot | null {
    let best: ChunkSlot | null = null;
    for (const s of this.slots) if (s.live && s.order < than.order && (best === null || s.order > best.order)) best = s;
    return best;
  }

  /** Rows of `s` whose time is at or before `tUs` (already past). */
  rowsPast(s: ChunkSlot, tUs: number): number {
    const k = Math.floor((tUs - s.originUs) / this.stepUs);
    return Math.min(s.rows, Math.max(0, k));
  }

  /** Writes `s` at time tUs into out[A]; needs covers(s, tUs). Catmull-Rom between rows i0 and
   * i1 = i0 + 1, with tangents (p[i+1] - p[i-1]) / 2 (one-sided at the chunk's ends). */
  sample(s: ChunkSlot, tUs: number, out: Float64Array): void {
    const A = this.dim;
    const H = s.rows;
    const a = s.actions;
    const xr = (tUs - s.originUs) / this.stepUs - 1;
    if (xr < 0 && H >= 3) {
      const x = Math.max(-1, xr);
      for (let j = 0; j < A; j++) {
        const p0 = a[j] as number, p1 = a[A + j] as number, p2 = a[2 * A + j] as number;
        out[j] = p0 + (x * (-3 * p0 + 4 * p1 - p2)) / 2 + (x * x * (p0 - 2 * p1 + p2)) / 2;
      }
      return;
    }
    const x = Math.max(0, xr);
    const i0 = Math.min(H - 1, Math.floor(x));
    const i1 = Math.min(H - 1, i0 + 1);
    const im = Math.max(0, i0 - 1), i2 = Math.min(H - 1, i1 + 1);
    const w = Math.min(1, x - i0);
    const w2 = w * w, w3 = w2 * w;
    const h00 = 2 * w3 - 3 * w2 + 1, h10 = w3 - 2 * w2 + w, h01 = -2 * w3 + 3 * w2, h11 = w3 - w2;
    // Tangent scale: rows apart per side (1 inside the chunk, 0.5 where the neighbour is clamped).
    const k0 = 1 / Math.max(1, i1 - im), k1 = 1 / Math.max(1, i2 - i0);
    for (let j = 0; j < A; j++) {
      const p0 = a[i0 * A + j] as number, p1 = a[i1 * A + j] as number;
      const m0 = ((p1 - (a[im * A + j] as number)) * k0);
      const m1 = (((a[i2 * A + j] as number) - p0) * k1);
      out[j] = h00 * p0 + h10 * m0 + h01 * p1 + h11 * m1;
    }
  }

  clear(): void {
    for (const s of this.slots) s.live = false;
  }
}
