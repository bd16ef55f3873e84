/**
 * The stamps of the last observations sent, so a plan can be checked against the observation it
 * answers (its capture time bounds the plan's validity; its send time is t1 of the clock offset).
 * A fixed ring indexed by seq modulo its size: lookup is O(1) and allocation-free, and a seq that
 * fell out of the ring (or was never sent) is reported as unknown.
 * Invariant: slot (seq % size) holds seq's stamps iff seqs[slot] === seq.
 */
export interface SentStamps {
  /** µs, edge clock (the link's Clock), when the state was sampled. */
  captureUs: number;
  /** µs, edge clock, when the observation was written. */
  sendUs: number;
}

export class SentObservations {
  private readonly seqs: Float64Array;
  private readonly capture: Float64Array;
  private readonly send: Float64Array;

  constructor(size = 128) {
    this.seqs = new Float64Array(size).fill(-1);
    this.capture = new Float64Array(size);
    this.send = new Float64Array(size);
  }

  record(seq: number, captureUs: number, sendUs: number): void {
    const i = seq % this.seqs.length;
    this.seqs[i] = seq;
    this.capture[i] = captureUs;
    this.send[i] = sendUs;
  }

  /** Fills `out` with seq's stamps; false when seq is not (or no longer) known. */
  lookup(seq: number, out: SentStamps): boolean {
    const i = seq % this.seqs.length;
    if (this.seqs[i] !== seq) return false;
    out.captureUs = this.capture[i] as number;
    out.sendUs = this.send[i] as number;
    return true;
  }

  clear(): void {
    this.seqs.fill(-1);
  }
}
