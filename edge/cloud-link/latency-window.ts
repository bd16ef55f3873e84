/**
 * The last `size` latency samples in a ring, and their percentiles on demand. Adding is
 * allocation-free; percentiles sort a copy (health reports only, not the hot path).
 */
export interface LatencySummary {
  /** Samples in the window. */
  count: number;
  /** ms; null when empty. Nearest-rank percentiles. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export class LatencyWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 256) {
    if (!(size >= 1)) throw new RangeError(`latency window must hold >= 1 sample, got ${size}`);
    this.ring = new Float64Array(size);
  }

  /** Adds a sample in µs; non-finite samples are ignored. */
  add(us: number): void {
    if (!Number.isFinite(us)) return;
    this.ring[this.next] = us;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
  }

  summary(): LatencySummary {
    if (this.filled === 0) return { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
    const sorted = this.ring.slice(0, this.filled).sort();
    const rank = (p: number): number => (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number) / 1000;
    return { count: this.filled, p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: (sorted[sorted.length - 1] as number) / 1000 };
  }
}
