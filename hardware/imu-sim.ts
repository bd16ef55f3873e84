/**
 * The simulated base IMU. At each of its own sample instants (k / rateHz) it measures
 *   accel = accelScale · R_sb (R_bw (g_up + impact)) + noise     (specific force, m/s², sensor frame)
 *   gyro  = R_sb ω_base + gyroBias + noise                        (rad/s, sensor frame)
 *   quat  = q_wb ⊗ q_bs                                           (sensor → world, exact)
 * where q_bs is the profile's mount and g_up = (0, 0, +g) in the world: at rest the accelerometer
 * reads +g along the axis that points up. Between sample instants readings repeat the last sample,
 * as a STATE stream faster than the IMU does. Allocation-free after construction.
 */
import { GRAVITY, type BaseMotion } from './base-motion.js';
import type { ImuProfile } from './profile-types.js';
import { quatMultiply, quatRotateInverse } from './quaternion.js';
import type { Rng } from './rng.js';
import type { SensorReading } from './sensor-reading.js';

export class ImuSim {
  /** True bias, rad/s, sensor frame (zeros without an IMU). */
  readonly gyroBias = new Float64Array(3);
  /** Repeat the last sample forever (imu-freeze fault). */
  frozen = false;
  /** Read NaN on every channel (imu-nan fault). */
  nan = false;

  private readonly mount = new Float64Array(4);
  private readonly accel = new Float64Array(3);
  private readonly gyro = new Float64Array(3);
  private readonly quat = new Float64Array(4);
  private readonly scratch = new Float64Array(3);
  private readonly forceWorld = new Float64Array(3);
  /** Index k of the last sample taken; -1 before the first. */
  private lastSample = -1;
  /** Samples taken since power-on (frozen repeats are not samples). */
  private samplesTaken = 0;

  constructor(private readonly profile: ImuProfile | null, private readonly rng: Rng) {
    if (profile !== null) {
      this.gyroBias.set(profile.gyroBias);
      this.mount.set(profile.mount);
    }
  }

  /** Fills out.accel, out.gyro and out.quat for simulated time t. */
  read(out: SensorReading, base: BaseMotion, t: number): void {
    const p = this.profile;
    if (p === null || this.nan) {
      out.imuSample = p === null ? 0 : this.sampleCounter();
      out.accel.fill(Number.NaN);
      out.gyro.fill(Number.NaN);
      out.quat.fill(Number.NaN);
      return;
    }
    const k = Math.floor(t * p.rateHz + 1e-9);
    if (k !== this.lastSample && !this.frozen) {
      this.lastSample = k;
      this.samplesTaken++;
      this.sample(p, base, t);
    }
    out.imuSample = this.sampleCounter();
    out.accel.set(this.accel);
    out.gyro.set(this.gyro);
    if (p.fusedOrientation) out.quat.set(this.quat);
    else out.quat.fill(Number.NaN);
  }

  /** STATE.imu_sample: 1..65535, wrapping past 0 (0 means "no counter" on the wire). */
  private sampleCounter(): number {
    return this.samplesTaken === 0 ? 0 : ((this.samplesTaken - 1) % 65535) + 1;
  }

  private sample(p: ImuProfile, base: BaseMotion, t: number): void {
    const rng = this.rng;
    // Specific force in the world, then world → base → sensor.
    this.forceWorld[0] = 0;
    this.forceWorld[1] = 0;
    this.forceWorld[2] = GRAVITY + base.impactAccel(t);
    quatRotateInverse(this.scratch, base.quat, this.forceWorld);
    quatRotateInverse(this.accel, this.mount, this.scratch);
    for (let i = 0; i < 3; i++) {
      this.accel[i] = p.accelScale * (this.accel[i] as number) + p.accelNoiseStd * rng.normal();
    }
    quatRotateInverse(this.gyro, this.mount, base.angVel);
    for (let i = 0; i < 3; i++) {
      this.gyro[i] = (this.gyro[i] as number) + (this.gyroBias[i] as number) + p.gyroNoiseStd * rng.normal();
    }
    quatMultiply(this.quat, base.quat, this.mount);
  }
}
