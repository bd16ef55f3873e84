/**
 * Attitude filter: Mahony's explicit complementary filter on SO(3) (Mahony, Hamel, Pflimlin 2008),
 * with its integral term as the gyro bias estimate, plus a zero-angular-rate update (ZARU) that
 * learns the whole bias, heading axis included, while the base stands still.
 *
 * Why Mahony: the STATE stream carries a 6-axis IMU (no magnetometer), so heading is unobservable
 * from the accelerometer and any filter only corrects roll and pitch. Mahony does that with two
 * gains whose meaning is plain (kp: 1/s, the tilt correction bandwidth; ki: 1/s², the bias loop),
 * estimates the bias explicitly (Madgwick's bias term is an add-on with a less direct meaning), is
 * provably almost-globally stable, and costs ~60 flops a sample — an EKF would add a 6×6 or 7×7
 * covariance update and noise models to tune for the same observability. The ZARU covers what the
 * accelerometer cannot: bias about the gravity axis, learned only when the base is still.
 *
 * Frames and units: every input is already calibrated into the base frame (see imu-calibration.ts);
 * q is q_wb (base → world, world z up), rates rad/s, specific force m/s² (at rest +g along up).
 * Heading starts at 0 (or at what init() is given) and drifts only by the residual z bias.
 * Allocation-free after construction. Invariant: |q| = 1 once `initialized`.
 */
import { quatIntegrateBodyRate } from '../../hardware/index.js';

export interface MahonyOptions {
  /** 1/s: proportional gain of the accelerometer correction (tilt converges with time constant ≈ 1/kp). */
  kp: number;
  /** 1/s²: integral gain, the bias loop on the axes the accelerometer sees. */
  ki: number;
  /** m/s²: the accelerometer corrects only while | |a| − g | is below this (no dynamic acceleration, no impact). */
  accelGateMs2: number;
  /** rad/s: below this corrected rate (and within the accel gate) the base counts as still. */
  stillRateRadS: number;
  /** s: still for this long before the ZARU learns the bias. */
  stillTimeS: number;
  /** s: time constant of the ZARU's bias average. */
  zaruTimeConstantS: number;
  /** rad/s: each bias component is clamped to ± this (anti wind-up). */
  biasLimitRadS: number;
}

export const DEFAULT_MAHONY: Readonly<MahonyOptions> = Object.freeze({
  kp: 1.0,
  ki: 0.05,
  accelGateMs2: 1.5,
  stillRateRadS: 0.03,
  stillTimeS: 0.25,
  zaruTimeConstantS: 0.5,
  biasLimitRadS: 0.2,
});

const GRAVITY = 9.80665;

function clamp(x: number, lim: number): number {
  return x > lim ? lim : x < -lim ? -lim : x;
}

export class MahonyFilter {
  /** w,x,y,z, base → world. */
  readonly q = new Float64Array([1, 0, 0, 0]);
  /** rad/s, base frame: the estimated gyro bias. */
  readonly bias = new Float64Array(3);
  /** rad/s, base frame: the last bias-corrected rate (without the correction term). */
  readonly rate = new Float64Array(3);
  /** False until init(): update() does nothing before. */
  initialized = false;
  /** s the base has been still without interruption. */
  private stillS = 0;
  private readonly o: MahonyOptions;

  constructor(opts: Partial<MahonyOptions> = {}) {
    this.o = { ...DEFAULT_MAHONY, ...opts };
  }

  /** Roll and pitch from one accelerometer sample (base frame), heading `yaw` rad (ZYX). Returns
   * false (and stays uninitialised) when the sample cannot give a direction. */
  initFromAccel(ax: number, ay: number, az: number, yaw = 0): boolean {
    const n = Math.sqrt(ax * ax + ay * ay + az * az);
    if (!(n > 0.5 * GRAVITY && n < 1.5 * GRAVITY)) return false;
    const roll = Math.atan2(ay, az);
    const pitch = Math.atan2(-ax, Math.sqrt(ay * ay + az * az));
    const cr = Math.cos(roll / 2), sr = Math.sin(roll / 2);
    const cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
    const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2);
    this.q[0] = cr * cp * cy + sr * sp * sy;
    this.q[1] = sr * cp * cy - cr * sp * sy;
    this.q[2] = cr * sp * cy + sr * cp * sy;
    this.q[3] = cr * cp * sy - sr * sp * cy;
    this.initialized = true;
    return true;
  }

  /** Starts from a known orientation (unit quaternion, base → world). */
  initFromQuat(q: ArrayLike<number>): void {
    for (let i = 0; i < 4; i++) this.q[i] = q[i] as number;
    this.initialized = true;
  }

  /** Sets the bias estimate, rad/s, base frame. */
  setBias(x: number, y: number, z: number): void {
    this.bias[0] = x; this.bias[1] = y; this.bias[2] = z;
  }

  /**
   * One step of dt s with gyro (rad/s) and accelerometer (m/s²) samples in the base frame.
   * `accelUsable` false skips the correction (saturated or absent accelerometer). Inputs must be
   * finite: the caller checks (a NaN here would poison q and the bias for good).
   */
  update(gx: number, gy: number, gz: number, ax: number, ay: number, az: number, accelUsable: boolean, dt: number): void {
    if (!this.initialized || !(dt > 0)) return;
    const o = this.o;
    const b = this.bias;
    let wx = gx - (b[0] as number), wy = gy - (b[1] as number), wz = gz - (b[2] as number);
    this.rate[0] = wx; this.rate[1] = wy; this.rate[2] = wz;
    const an = Math.sqrt(ax * ax + ay * ay + az * az);
    const accelOk = accelUsable && Math.abs(an - GRAVITY) < o.accelGateMs2;
    if (accelOk) {
      const q = this.q;
      const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
      // Estimated up in the base frame (third row of R_wb); error e = â × v̂.
      const vx = 2 * (x * z - w * y), vy = 2 * (y * z + w * x), vz = w * w - x * x - y * y + z * z;
      const nx = ax / an, ny = ay / an, nz = az / an;
      const ex = ny * vz - nz * vy, ey = nz * vx - nx * vz, ez = nx * vy - ny * vx;
      wx += o.kp * ex; wy += o.kp * ey; wz += o.kp * ez;
      b[0] = clamp((b[0] as number) - o.ki * ex * dt, o.biasLimitRadS);
      b[1] = clamp((b[1] as number) - o.ki * ey * dt, o.biasLimitRadS);
      b[2] = clamp((b[2] as number) - o.ki * ez * dt, o.biasLimitRadS);
    }
    // ZARU: a still base reads its bias on every axis.
    const r0 = this.rate[0] as number, r1 = this.rate[1] as number, r2 = this.rate[2] as number;
    if (accelOk && Math.sqrt(r0 * r0 + r1 * r1 + r2 * r2) < o.stillRateRadS) {
      this.stillS += dt;
      if (this.stillS >= o.stillTimeS) {
        const k = Math.min(1, dt / o.zaruTimeConstantS);
        b[0] = clamp((b[0] as number) + k * r0, o.biasLimitRadS);
        b[1] = clamp((b[1] as number) + k * r1, o.biasLimitRadS);
        b[2] = clamp((b[2] as number) + k * r2, o.biasLimitRadS);
      }
    } else {
      this.stillS = 0;
    }
    quatIntegrateBodyRate(this.q, wx, wy, wz, dt);
  }

  /** Propagates with the gyro alone (no accelerometer available). */
  propagate(gx: number, gy: number, gz: number, dt: number): void {
    this.update(gx, gy, gz, 0, 0, 0, false, dt);
  }
}
