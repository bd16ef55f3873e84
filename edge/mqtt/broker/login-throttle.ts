/**
 * Slows password guessing against the broker: failures are counted per key (the embedded broker
 * uses one key for the client's address and one for the account), and once a key has `maxFailures`
 * within `windowMs` it is locked for `lockMs`; while any of a login's keys is locked its password
 * is not even checked. A success clears the address's count only, so a correct login from one
 * place does not reset what is being tried against that account from others.
 * Bounded: at most `maxKeys` keys are tracked (the oldest is forgotten first).
 *
 * The trade-off of a per-account lock: someone who knows an account name can keep it locked out.
 * Robots should therefore authenticate with a client certificate (TLS refuses a stranger before any
 * password is tried, and a certificate login is never locked), or at least sit behind a network
 * that only robots reach.
 */
export interface ThrottleOptions {
  now?: () => number;
  /** Failures within the window that lock the key. Default 5. */
  maxFailures?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Default 30 s. */
  lockMs?: number;
  /** Default 10 000. */
  maxKeys?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; firstMs: number; lockedUntilMs: number }>();
  private readonly now: () => number;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private readonly maxKeys: number;

  constructor(o: ThrottleOptions = {}) {
    this.now = o.now ?? Date.now;
    this.maxFailures = o.maxFailures ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.lockMs = o.lockMs ?? 30_000;
    this.maxKeys = o.maxKeys ?? 10_000;
    for (const [k, v] of Object.entries({ maxFailures: this.maxFailures, windowMs: this.windowMs, lockMs: this.lockMs, maxKeys: this.maxKeys })) {
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`login throttle ${k}=${v} must be a positive whole number`);
    }
  }

  /** Milliseconds until every one of `keys` may try again; 0 when they may now. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const k of keys) wait = Math.max(wait, (this.failures.get(k)?.lockedUntilMs ?? 0) - now);
    return wait;
  }

  failed(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      let f = this.failures.get(key);
      if (!f || (now - f.firstMs > this.windowMs && f.lockedUntilMs <= now)) {
        this.failures.delete(key);
        f = { count: 0, firstMs: now, lockedUntilMs: 0 };
        this.failures.set(key, f);
        if (this.failures.size > this.maxKeys) {
          const oldest = this.failures.keys().next().value;
          if (oldest !== undefined) this.failures.delete(oldest);
        }
      }
      f.count += 1;
      if (f.count >= this.maxFailures) f.lockedUntilMs = now + this.lockMs;
    }
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
