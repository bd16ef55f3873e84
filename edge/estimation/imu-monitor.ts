/**
 * Health checks on the raw IMU block, before calibration: each sample yields raw Detected bits.
 * - IMU_NAN: any accel or gyro channel NaN or ±Inf (a broken driver).
 * - IMU_SATURATED: an accel axis at or beyond accelSaturationMs2, or a gyro axis at or beyond
 *   gyroSaturationRadS (a clipped reading is a lower bound, not a measurement).
 * - IMU_FROZEN: the six channels bit-identical to the previous sample for frozenAfterUs or longer.
 *   STATE repeats the IMU's last sample between IMU samples (an IMU slower than the STATE rate), so
 *   the threshold must exceed the IMU's period by a wide margin; a real sensor's noise makes two
 *   genuinely new samples bit-identical practically never.
 * - IMU_STALE: STATE frames keep arriving without the IMU block for staleAfterUs or longer.
 * Times are the samples' own (µs); nothing here reads a clock. Allocation-free.
 */
import { Detected } from './estimation-flags.js';

export interface ImuMonitorOptions {
  accelSaturationMs2: number;
  gyroSaturationRadS: number;
  frozenAfterUs: number;
  staleAfterUs: number;
}

export class ImuMonitor {
  /** Which kind saturated in the last check (the accelerometer and gyro are used separately). */
  accelSaturated = false;
  gyroSaturated = false;
  private readonly last = new Float64Array(6);
  /** µs of the last change in the six channels, and of the last sample with an IMU block; NaN before any. */
  private lastChangeUs = Number.NaN;
  private lastPresentUs = Number.NaN;

  constructor(private readonly o: ImuMonitorOptions) {}

  /** Raw Detected bits for a STATE at tUs; `present` says whether it carried the IMU block. */
  check(present: boolean, accel: ArrayLike<number>, gyro: ArrayLike<number>, tUs: number): number {
    this.accelSaturated = false;
    this.gyroSaturated = false;
    if (!present) {
      if (Number.isNaN(this.lastPresentUs)) this.lastPresentUs = tUs;
      return tUs - this.lastPresentUs >= this.o.staleAfterUs ? Detected.IMU_STALE : 0;
    }
    this.lastPresentUs = tUs;
    let bits = 0;
    let same = !Number.isNaN(this.lastChangeUs);
    const aSat = this.o.accelSaturationMs2, gSat = this.o.gyroSaturationRadS;
    for (let i = 0; i < 3; i++) {
      const a = accel[i] as number, g = gyro[i] as number;
      if (!Number.isFinite(a) || !Number.isFinite(g)) bits |= Detected.IMU_NAN;
      else {
        if (Math.abs(a) >= aSat) this.accelSaturated = true;
        if (Math.abs(g) >= gSat) this.gyroSaturated = true;
      }
      if (a !== this.last[i] || g !== this.last[i + 3]) same = false;
      this.last[i] = a;
      this.last[i + 3] = g;
    }
    if (this.accelSaturated || this.gyroSaturated) bits |= Detected.IMU_SATURATED;
    if ((bits & Detected.IMU_NAN) !== 0) {
      // NaN is not "the same value again": the frozen clock restarts once finite data returns.
      this.lastChangeUs = Number.NaN;
      return bits;
    }
    if (!same) this.lastChangeUs = tUs;
    else if (tUs - this.lastChangeUs >= this.o.frozenAfterUs) bits |= Detected.IMU_FROZEN;
    return bits;
  }
}
