/**
 * The simulated MCU's clock: a crystal with a fixed offset and drift against the host's clock.
 *
 *   mcuUs = (hostUs * (1 + driftPpm * 1e-6) + offsetUs) mod 2^32
 *
 * Host time is the simulation's true time (µs, any epoch, may be fractional). `unwrapped()` is the
 * same value before the modulo: the MCU schedules on it so nothing inside the firmware ever sees
 * the wrap; only the wire's time_us does, as the SPEC says.
 */
const TWO_POW_32 = 4294967296;

/** Default offset: 5 s before the u32 wrap, so a test meets the wrap within seconds. */
export const DEFAULT_CLOCK_OFFSET_US = TWO_POW_32 - 5_000_000;
/** Default drift: a plausible ±50 ppm crystal. */
export const DEFAULT_DRIFT_PPM = 40;

export class McuClock {
  readonly offsetUs: number;
  readonly driftPpm: number;
  private readonly rate: number;

  constructor(offsetUs = DEFAULT_CLOCK_OFFSET_US, driftPpm = DEFAULT_DRIFT_PPM) {
    if (!Number.isFinite(offsetUs) || !Number.isFinite(driftPpm) || Math.abs(driftPpm) >= 1e5) {
      throw new RangeError(`McuClock: offsetUs=${offsetUs} and driftPpm=${driftPpm} must be finite, |drift| < 1e5 ppm`);
    }
    this.offsetUs = offsetUs;
    this.driftPpm = driftPpm;
    this.rate = 1 + driftPpm * 1e-6;
  }

  /** MCU microseconds at host time `hostUs`, not wrapped (fractional). */
  unwrapped(hostUs: number): number {
    return hostUs * this.rate + this.offsetUs;
  }

  /** Host time at which the unwrapped MCU clock reads `mcuUs`: the inverse of unwrapped(). */
  hostAt(mcuUs: number): number {
    return (mcuUs - this.offsetUs) / this.rate;
  }

  /** The MCU's time_us at host time `hostUs`: whole µs modulo 2^32, as it goes on the wire. */
  wireTimeAt(hostUs: number): number {
    const t = Math.floor(this.unwrapped(hostUs)) % TWO_POW_32;
    return t < 0 ? t + TWO_POW_32 : t;
  }
}
