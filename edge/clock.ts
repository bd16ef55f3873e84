/**
 * Injected time. Every watchdog, heartbeat, timeout and backoff in edge/ takes a Clock,
 * so tests drive time with ManualClock instead of sleeping.
 */

/** Opaque handle of a scheduled timer; only the clock that made it can clear it. */
export interface TimerHandle {
  readonly __timerHandle: never;
}

export interface Clock {
  /** Monotonic host time in microseconds (fractional allowed). Never goes backwards. */
  nowUs(): number;
  /** Calls `fn` once, after at least `ms` milliseconds (negative or NaN counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing one that already fired or was cleared is a no-op. */
  clearTimeout(h: TimerHandle): void;
}

function sanitizeMs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Real time: performance.now() (monotonic) and Node timers. */
export const systemClock: Clock = {
  nowUs: () => performance.now() * 1000,
  setTimeout: (fn, ms) => setTimeout(fn, sanitizeMs(ms)) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

interface ManualTimer {
  dueUs: number;
  /** Insertion order: timers due at the same instant fire in the order they were set. */
  order: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires every timer that falls due within the
 * step, in deadline order, with nowUs() equal to each timer's deadline while it runs; timers set
 * by a firing timer fire in the same step when they fall due within it.
 */
export class ManualClock implements Clock {
  private now: number;
  private seq = 0;
  /** Invariant: holds exactly the timers that are neither fired nor cleared. */
  private readonly timers = new Set<ManualTimer>();

  constructor(startUs = 1_000_000) {
    this.now = startUs;
  }

  nowUs(): number {
    return this.now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: ManualTimer = { dueUs: this.now + sanitizeMs(ms) * 1000, order: this.seq++, fn };
    this.timers.add(t);
    return t as unknown as TimerHandle;
  }

  clearTimeout(h: TimerHandle): void {
    const t = h as unknown as ManualTimer;
    this.timers.delete(t);
  }

  /** Number of timers still to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers synchronously. */
  advance(ms: number): void {
    const end = this.now + sanitizeMs(ms) * 1000;
    for (let t = this.nextDue(end); t; t = this.nextDue(end)) this.fire(t);
    this.now = end;
  }

  /**
   * Like advance(), but lets promise callbacks and I/O callbacks queued by each timer run (one
   * setImmediate turn) before the next timer fires, and once at the end. For code under test that
   * awaits between timer callbacks (opening a port, waiting for an answer).
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.now + sanitizeMs(ms) * 1000;
    await settle();
    for (let t = this.nextDue(end); t; t = this.nextDue(end)) {
      this.fire(t);
      await settle();
    }
    this.now = end;
    await settle();
  }

  private nextDue(endUs: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.dueUs > endUs) continue;
      if (!best || t.dueUs < best.dueUs || (t.dueUs === best.dueUs && t.order < best.order)) best = t;
    }
    return best;
  }

  private fire(t: ManualTimer): void {
    this.timers.delete(t);
    if (t.dueUs > this.now) this.now = t.dueUs;
    t.fn();
  }
}

/** Resolves after pending microtasks and already queued immediates have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
