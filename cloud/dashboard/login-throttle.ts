/**
 * Slows password guessing: after `maxFailures` failed logins from one address within `windowMs`,
 * that address is refused for `lockMs`. Bounded: at most `maxAddresses` addresses are tracked.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; firstMs: number; lockedUntilMs: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxFailures = 5,
    private readonly windowMs = 60_000,
    private readonly lockMs = 30_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds until this address may try again; 0 when it may now. */
  retryAfterMs(address: string): number {
    const f = this.failures.get(address);
    return f ? Math.max(0, f.lockedUntilMs - this.now()) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    let f = this.failures.get(address);
    if (!f || now - f.firstMs > this.windowMs) {
      this.failures.delete(address);
      f = { count: 0, firstMs: now, lockedUntilMs: 0 };
      this.failures.set(address, f);
      if (this.failures.size > this.maxAddresses) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
    }
    f.count += 1;
    if (f.count >= this.maxFailures) f.lockedUntilMs = now + this.lockMs;
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
