/**
 * Extends the MCU's 32-bit microsecond clock (wraps every 71.6 minutes) to a monotonic number.
 * Times arrive slightly out of order (a STATE stamped after a TIME_SYNC_RESP may arrive before it),
 * so each value is placed nearest to the latest one: a step of less than 2^31 µs either way is
 * taken as it is, which only fails if frames stop for more than 35 minutes without a reset().
 */
const WRAP = 0x1_0000_0000;
const HALF = 0x8000_0000;

export class McuClockUnwrapper {
  /** Invariant: latest >= 0 once `started`; latest mod 2^32 is the newest raw value seen. */
  private latest = 0;
  private started = false;

  /** Forgets the history, e.g. when the MCU restarted (its clock began again at 0). */
  reset(): void {
    this.latest = 0;
    this.started = false;
  }

  /** Unwrapped µs for a raw u32 MCU time; allocation-free. */
  unwrap(raw: number): number {
    const r = raw >>> 0;
    if (!this.started) {
      this.started = true;
      this.latest = r;
      return r;
    }
    let delta = r - (this.latest % WRAP);
    if (delta >= HALF) delta -= WRAP;
    else if (delta < -HALF) delta += WRAP;
    const t = this.latest + delta;
    if (delta > 0) this.latest = t;
    return t;
  }
}
