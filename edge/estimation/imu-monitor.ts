/**
 * Health checks on the raw IMU block, before calibration: each sample yields raw Detected bits.
 * - IMU_NAN: any accel or gyro channel NaN or ±Inf (a broken driver).
 * - IMU_SATURATED: an accel axis at or beyond accelSaturationMs2, or a gyro axis at or beyond
 *   gyroSaturationRadS (a clipped reading is a lower bound, not a measurement).
 * - IMU_FROZEN: no new IMU sample for frozenAfterUs or longer. With SPEC 1.1's STATE.imu_sample
 *   (non-zero) a new sample is a new counter value, whatever the values (a quiet, well-quantised
 *   sensor may repeat them exactly and is still live). Without it (0: a 1.0 firmware) a new sample
 *   is a change in any of the six channels: STATE repeats the IMU's last sample between IMU
 *   samples (an IMU slower than the STATE rate), so the threshold must exceed the IMU's period by
 *   a wide margin; a real sensor's noise makes two genuinely new samples bit-identical practically
 *   never.
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
  /** STATE.imu_sample of the previous sample; 0 when it carried none. */
  private lastCounter = 0;

  constructor(private readonly o: ImuMonitorOptions) {}

  /** Raw Detected bits for a STATE at tUs; `present` says whether it carried the IMU block;
   * `sample` is its STATE.imu_sample (0: no counter). */
  check(present: boolean, accel: ArrayLike<number>, gyro: ArrayLike<number>, tUs: number, sample = 0): number {
    this.accelSaturated = false;
    this.gyroSaturated = false;
    if (!present) {
      if (Number.isNaN(this.lastPresentUs)) this.lastPresentUs = tUs;
      return tUs - this.lastPresentUs >= this.o.staleAfterUs ? Detected.IMU_STALE : 0;
    }
    this.lastPresentUs = tUs;
    const previousCounter = this.lastCounter;
    this.lastCounter = sample;
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
    // With a counter on both sides, it alone says whether the sample is new.
    if (sample !== 0 && previousCounter !== 0) same = sample === previousCounter && !Number.isNaN(this.lastChangeUs);
    if (!same) this.lastChangeUs = tUs;
    else if (tUs - this.lastChangeUs >= this.o.frozenAfterUs) bits |= Detected.IMU_FROZEN;
    return bits;
  }
}
