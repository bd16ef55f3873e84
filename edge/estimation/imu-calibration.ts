/**
 * IMU calibration from the robot profile: sensor-frame samples → base-frame samples.
 *   accel_b = mount ⊗ (accel_s / accelScale) ⊗ mount*     (m/s², specific force)
 *   gyro_b  = mount ⊗ gyro_s ⊗ mount*                     (rad/s, bias still included)
 * `mount` is the profile's q_bs (sensor → base). The gyro bias is not a calibration constant: it
 * drifts with temperature, so the orientation filter estimates it (in the base frame); the profile's
 * gyroBias describes the simulated sensor and is not used here unless the caller passes it as the
 * filter's starting estimate. Allocation-free after construction.
 */
import { quatRotate, quatRotateInverse, type ImuProfile } from '../../hardware/index.js';

export class ImuCalibration {
  /** w,x,y,z: sensor → base. */
  readonly mount = new Float64Array(4);
  /** m/s², base frame, calibrated: written by apply(). */
  readonly accel = new Float64Array(3);
  /** rad/s, base frame: written by apply(). */
  readonly gyro = new Float64Array(3);
  private readonly invScale: number;

  constructor(profile: ImuProfile) {
    this.mount.set(profile.mount);
    this.invScale = 1 / profile.accelScale;
  }

  /** Calibrates one sample (sensor frame, wire units) into `accel` and `gyro`. */
  apply(accelS: ArrayLike<number>, gyroS: ArrayLike<number>): void {
    const s = this.invScale;
    const a = quatRotate(this.accel, this.mount, accelS);
    a[0] = s * (a[0] as number); a[1] = s * (a[1] as number); a[2] = s * (a[2] as number);
    quatRotate(this.gyro, this.mount, gyroS);
  }

  /** A base-frame vector expressed in the sensor frame (e.g. the bias estimate, to compare with a
   * sensor datasheet or the simulation's truth). */
  toSensor(out: Float64Array, vb: ArrayLike<number>): Float64Array {
    return quatRotateInverse(out, this.mount, vb);
  }

  /** A sensor-frame vector expressed in the base frame. */
  toBase(out: Float64Array, vs: ArrayLike<number>): Float64Array {
    return quatRotate(out, this.mount, vs);
  }
}
