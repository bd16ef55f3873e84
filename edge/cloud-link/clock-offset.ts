/**
 * Offset between the edge's wire clock and the brain's clock, from the four stamps of each
 * observation/plan exchange (NTP style):
 *   t1 = observation send time (edge), t2 = brain received it, t3 = brain created the plan,
 *   t4 = the edge received the plan.
 *   offset = ((t2 - t1) + (t3 - t4)) / 2      (brain clock minus edge clock)
 *   delay  = (t4 - t1) - (t3 - t2)            (network round trip without the brain's compute)
 * Queueing only ever adds delay, and a sample's offset error is at most delay / 2, so the estimate
 * is the offset of the sample with the smallest delay within the last `window` samples (min-RTT
 * filtering). Samples with a negative delay (impossible stamps) are refused.
 * Allocation-free: a fixed ring of typed arrays.
 */
export interface ClockOffsetEstimate {
  /** µs, brain clock minus edge clock; null until a sample was accepted. */
  offsetUs: number | null;
  /** µs, the delay of the sample the estimate comes from (its error bound is half of it). */
  delayUs: number | null;
  samples: number;
  refused: number;
}

export class ClockOffsetEstimator {
  private readonly offsets: Float64Array;
  private readonly delays: Float64Array;
  private next = 0;
  private count = 0;
  private refusedCount = 0;

  constructor(window = 32) {
    if (!(window >= 1)) throw new RangeError(`clock offset window must be >= 1, got ${window}`);
    this.offsets = new Float64Array(window);
    this.delays = new Float64Array(window);
  }

  /** Adds one exchange; returns false (and counts it) when its stamps are impossible. */
  add(t1: number, t2: number, t3: number, t4: number): boolean {
    const delay = t4 - t1 - (t3 - t2);
    if (!Number.isFinite(delay) || delay < 0 || t3 < t2 || t4 < t1) {
      this.refusedCount++;
      return false;
    }
    this.offsets[this.next] = (t2 - t1 + (t3 - t4)) / 2;
    this.delays[this.next] = delay;
    this.next = (this.next + 1) % this.offsets.length;
    this.count++;
    return true;
  }

  estimate(): ClockOffsetEstimate {
    const n = Math.min(this.count, this.offsets.length);
    let best = -1;
    for (let i = 0; i < n; i++) if (best < 0 || (this.delays[i] as number) < (this.delays[best] as number)) best = i;
    return {
      offsetUs: best < 0 ? null : (this.offsets[best] as number),
      delayUs: best < 0 ? null : (this.delays[best] as number),
      samples: this.count,
      refused: this.refusedCount,
    };
  }
}
