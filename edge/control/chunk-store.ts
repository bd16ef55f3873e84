/**
 * A fixed pool of chunk slots (no allocation after construction). A chunk is a [H, A] action
 * array in robot units (rad) aligned in host time: row h is the target for originUs + (h+1)·stepUs,
 * where originUs is the capture time of the observation it was computed from. Sampling between
 * rows interpolates linearly; before row 0 it holds row 0; after the last row the chunk no longer
 * covers the time.
 */
export interface ChunkSlot {
  /** Row-major [H, A]. */
  readonly actions: Float64Array;
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
    this.slots = Array.from({ length: capacity }, () => ({ actions: new Float64Array(horizon * dim), originUs: 0, acceptedUs: 0, order: 0, live: false }));
  }

  /** µs after which `s` covers nothing. */
  endUs(s: ChunkSlot): number {
    return s.originUs + this.horizon * this.stepUs;
  }

  covers(s: ChunkSlot, tUs: number): boolean {
    return s.live && tUs <= this.endUs(s);
  }

  /** Stores a chunk, reusing a dead slot or else the oldest. Returns the slot. */
  put(actions: ArrayLike<number>, originUs: number, acceptedUs: number): ChunkSlot {
    let slot: ChunkSlot | undefined;
    for (const s of this.slots) {
      if (!s.live) { slot = s; break; }
      if (slot === undefined || s.order < slot.order) slot = s;
    }
    const s = slot as ChunkSlot;
    for (let i = 0; i < s.actions.length; i++) s.actions[i] = actions[i] as number;
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
    return Math.min(this.horizon, Math.max(0, k));
  }

  /** Writes `s` at time tUs into out[A]; needs covers(s, tUs). */
  sample(s: ChunkSlot, tUs: number, out: Float64Array): void {
    const A = this.dim;
    const x = Math.max(0, (tUs - s.originUs) / this.stepUs - 1);
    const i0 = Math.min(this.horizon - 1, Math.floor(x));
    const i1 = Math.min(this.horizon - 1, i0 + 1);
    const w = Math.min(1, x - i0);
    const a = s.actions;
    for (let j = 0; j < A; j++) out[j] = (a[i0 * A + j] as number) * (1 - w) + (a[i1 * A + j] as number) * w;
  }

  clear(): void {
    for (const s of this.slots) s.live = false;
  }
}
