/**
 * Jittered exponential backoff for reconnecting. Delay k (k = 0, 1, ...) is
 * base_k = min(maxMs, initialMs * 2^k), drawn uniformly from [base_k * (1 - jitter), base_k]:
 * never above maxMs, and spread so a fleet of robots that lost the same hub does not reopen in step.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: fraction of the delay that is random. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, jitter: 0.2 };

export class Backoff {
  private attempt = 0;
  private readonly opts: BackoffOptions;
  private readonly random: () => number;

  constructor(opts: BackoffOptions, random: () => number = Math.random) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs) || !(opts.jitter >= 0 && opts.jitter <= 1)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs and 0 <= jitter <= 1, got ${JSON.stringify(opts)}`);
    }
    this.opts = opts;
    this.random = random;
  }

  /** The next delay in ms; each call doubles the base until maxMs. */
  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return this.jittered(base);
  }

  /** A delay drawn at the maximum base (used after an incompatible peer); does not advance. */
  atMax(): number {
    return this.jittered(this.opts.maxMs);
  }

  /** Back to initialMs, after a connection reached READY. */
  reset(): void {
    this.attempt = 0;
  }

  private jittered(base: number): number {
    return base * (1 - this.opts.jitter * this.random());
  }
}
