/** Time for the cloud side, injectable so tests drive it: wall-clock microseconds (the wire's
 * timestamps) and monotonic milliseconds (deadlines, latencies). */
export interface Clock {
  /** Microseconds since the Unix epoch (the brain clock of brain.proto). */
  nowUs(): number;
  /** Monotonic milliseconds, for intervals only. */
  monoMs(): number;
}

export const systemClock: Clock = {
  nowUs: () => Math.round((performance.timeOrigin + performance.now()) * 1000),
  monoMs: () => performance.now(),
};

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  constructor(private us = 1_700_000_000_000_000) {}
  nowUs(): number { return this.us; }
  monoMs(): number { return this.us / 1000; }
  advanceMs(ms: number): void { this.us += Math.round(ms * 1000); }
}
