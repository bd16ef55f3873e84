/**
 * The edge state estimator: STATE samples in, one consistent Observation out (joint state in rad,
 * rad/s, Nm; base orientation, rate and tilt; validity), plus typed events for the safety
 * supervisor. Fed with a StateMsg and its times — a SerialLink 'state' event fits as is, and a test
 * can feed it from the simulated plant — so it owns no I/O and reads no clock: intervals
 * come from the MCU's sample times, stamps from the link's time sync.
 *
 * Per sample: joints (joint-estimator.ts) → IMU health (imu-monitor.ts) → calibration
 * (imu-calibration.ts) → Mahony filter (mahony-filter.ts), cross-checked against the MCU's fused
 * orientation when it sends one → tilt / fall (tilt-fall-detector.ts) → published in place into an
 * ObservationBuffer under its sequence lock → events for conditions that rose or fell.
 * Allocation-free per sample; objects are made only for events (transitions).
 *
 * Orientation source: the MCU's fused quaternion when present, a finite unit quaternion and in
 * agreement with the host filter; otherwise the host filter. The filter runs in every case (it is
 * the cross-check). Bad IMU samples (NaN, frozen, stale, gyro saturated) never reach the filter;
 * it holds, the orientation is marked invalid, and on recovery roll and pitch are re-initialised
 * from the accelerometer (heading kept) instead of trusting a state that missed the motion.
 */
import { EventEmitter } from 'node:events';
import { countsToRad, cpsToRadPerSec, quatNormalize, type JointProfile, type RobotProfile } from '../../hardware/index.js';
import { Fault, StateFlag, type StateMsg } from '../../proto/wire/index.js';
import { Detected, detectedName, IMU_DETECTED, Valid } from './estimation-flags.js';
import { resolveOptions, type ResolvedOptions, type StateEstimatorEvents, type StateEstimatorOptions } from './estimator-options.js';
import { FaultLatch } from './fault-latch.js';
import { ImuCalibration } from './imu-calibration.js';
import { ImuMonitor } from './imu-monitor.js';
import { JointEstimator } from './joint-estimator.js';
import { MahonyFilter } from './mahony-filter.js';
import { ObservationBuffer, Slot } from './observation-buffer.js';
import type { Observation } from './observation.js';
import { quatMulConj, tiltDisagreement, yawOf } from './quat-math.js';
import { TiltFallDetector } from './tilt-fall-detector.js';

/** One STATE sample with its times. A SerialLink StateEvent satisfies it. */
export interface EstimatorInput {
  msg: StateMsg;
  /** µs, MCU clock (unwrapped): when the MCU sampled; intervals are taken from it. */
  mcuTimeUs: number;
  /** µs, host clock: the snapshot's stamp. */
  hostTimeUs: number;
  /** hostTimeUs went through a converged time sync. */
  synced: boolean;
}

/** Conditions that make the orientation / the angular rate untrustworthy. */
const ORIENTATION_BAD = Detected.IMU_NAN | Detected.IMU_FROZEN | Detected.IMU_STALE | Detected.IMU_SATURATED | Detected.ORIENTATION_MISMATCH | Detected.IMU_MCU_FAULT;
const RATE_BAD = Detected.IMU_NAN | Detected.IMU_FROZEN | Detected.IMU_STALE | Detected.IMU_SATURATED | Detected.IMU_MCU_FAULT;
/** Raw conditions under which the gyro sample is not integrated. */
const GYRO_BLOCKED = Detected.IMU_NAN | Detected.IMU_FROZEN | Detected.IMU_STALE;
const RAD2DEG = 180 / Math.PI;

export class StateEstimator extends EventEmitter<StateEstimatorEvents> {
  readonly profile: RobotProfile;
  readonly jointCount: number;
  /** The published snapshot; share `buffer.shared` with a worker to read it there. */
  readonly buffer: ObservationBuffer;
  private readonly o: ResolvedOptions;
  private readonly joints: JointEstimator;
  private readonly jointLatch: FaultLatch;
  private readonly imuLatch: FaultLatch;
  private readonly cal: ImuCalibration | null;
  private readonly monitor: ImuMonitor | null;
  private readonly filter: MahonyFilter;
  private readonly tilt: TiltFallDetector;
  private readonly fusedBase = new Float64Array(4);
  private readonly scratch3 = new Float64Array(3);
  private lastMcuUs = Number.NaN;
  private samples = 0;
  /** µs since which the fused and host tilts disagree; NaN while they agree. */
  private mismatchSinceUs = Number.NaN;
  private lastMismatchRad = 0;
  /** The gyro missed samples: re-initialise tilt from the accelerometer on the next good one. */
  private needsReinit = false;

  constructor(profile: RobotProfile, opts: StateEstimatorOptions = {}) {
    super();
    this.profile = profile;
    this.jointCount = profile.joints.length;
    this.o = resolveOptions(opts, profile.imu);
    this.buffer = ObservationBuffer.create(this.jointCount);
    this.joints = new JointEstimator(profile.joints, this.buffer, {
      velocityWindow: this.o.velocityWindow,
      glitchFactor: this.o.glitchFactor,
      glitchAcceptAfter: this.o.glitchAcceptAfter,
    });
    this.jointLatch = new FaultLatch(this.jointCount, this.o.recoverAfterSamples);
    this.imuLatch = new FaultLatch(1, this.o.recoverAfterSamples);
    this.filter = new MahonyFilter(this.o.orientation);
    this.tilt = new TiltFallDetector({
      warningRad: this.o.tiltWarningRad,
      fallRad: this.o.fallTiltRad,
      fallRateRadS: this.o.fallRateRadS,
      hysteresisRad: this.o.tiltHysteresisRad,
    });
    if (profile.imu === null) {
      this.cal = null;
      this.monitor = null;
    } else {
      this.cal = new ImuCalibration(profile.imu);
      this.monitor = new ImuMonitor({
        accelSaturationMs2: this.o.accelSaturationMs2,
        gyroSaturationRadS: this.o.gyroSaturationRadS,
        frozenAfterUs: this.o.imuFrozenAfterUs,
        staleAfterUs: this.o.imuStaleAfterUs,
      });
      const b = this.cal.toBase(this.scratch3, this.o.initialGyroBias);
      this.filter.setBias(b[0] as number, b[1] as number, b[2] as number);
    }
  }

  /** The host filter's own orientation (base → world), whatever source is published. */
  get filterOrientation(): Float64Array {
    return this.filter.q;
  }

  /** The gyro bias estimate, rad/s, in the IMU's sensor frame, into `out` (length 3). */
  gyroBiasSensor(out: Float64Array): Float64Array {
    if (this.cal === null) return out.fill(0);
    return this.cal.toSensor(out, this.filter.bias);
  }

  /**
   * The calibrated accelerometer reading (m/s², base frame, specific force: gravity included) of
   * the last IMU sample that reached the orientation filter, into `out` (length 3); zeros before
   * the first. Null when the profile has no IMU. Not in the published snapshot (no consumer on
   * another thread needs it), so read it on the thread that calls update().
   */
  baseAccel(out: Float64Array): Float64Array | null {
    if (this.cal === null) return null;
    out.set(this.cal.accel);
    return out;
  }

  /** Copies the latest snapshot into `out` (newObservation(jointCount)); see ObservationBuffer.read. */
  read(out: Observation): boolean {
    return this.buffer.read(out);
  }

  /**
   * The MCU's clock started again (an MCU restart, a reconnected link: the link's time sync starts
   * over): intervals are not taken across it, and joint readings are not glitch-tested against
   * readings on the old time base (that would hold a stale position as the measurement).
   */
  restartTimeBase(): void {
    this.lastMcuUs = Number.NaN;
    this.joints.restartTimeBase();
  }

  /** Consumes one STATE sample. Throws RangeError when its joint count is not the profile's. */
  update(input: EstimatorInput): void {
    const msg = input.msg;
    if (msg.jointCount !== this.jointCount) throw new RangeError(`StateEstimator: STATE has ${msg.jointCount} joints, profile ${this.profile.id} has ${this.jointCount}`);
    const t = input.mcuTimeUs;
    const dtUs = Number.isNaN(this.lastMcuUs) ? 0 : Math.min(this.o.maxDtUs, Math.max(0, t - this.lastMcuUs));
    this.lastMcuUs = t;
    this.samples++;
    const buf = this.buffer;
    buf.beginWrite();

    // Joints.
    this.joints.update(msg, t);
    let detected = 0;
    let validMask = 0;
    let posOk = true, velOk = true, effOk = true;
    for (let j = 0; j < this.jointCount; j++) {
      const f = this.jointLatch.update(j, this.joints.raw[j] as number);
      detected |= f;
      const holdBad = (f & (Detected.ENCODER_GLITCH | Detected.JOINT_MCU_FAULT)) !== 0;
      const effBad = !Number.isFinite(buf.effort[j] as number) || (f & Detected.JOINT_MCU_FAULT) !== 0;
      if (holdBad) posOk = false;
      if (holdBad || (f & (Detected.VELOCITY_MISMATCH | Detected.VELOCITY_IMPOSSIBLE | Detected.JOINT_NAN)) !== 0) velOk = false;
      if (effBad) effOk = false;
      if (f === 0 && !effBad) validMask |= 1 << j;
    }

    // IMU.
    let imuFlags = 0;
    if (this.cal !== null && this.monitor !== null) {
      imuFlags = this.imuLatch.update(0, this.updateImu(msg, t, dtUs * 1e-6));
      detected |= imuFlags;
    }
    const haveImu = this.cal !== null && this.filter.initialized;
    const orientationOk = haveImu && (imuFlags & ORIENTATION_BAD) === 0;
    const rateOk = haveImu && (imuFlags & RATE_BAD) === 0;
    const usingFused = (imuFlags & (Detected.ORIENTATION_MISMATCH | Detected.FUSED_INVALID)) === 0 && this.fusedFresh;
    const q = usingFused ? this.fusedBase : this.filter.q;
    if (haveImu) {
      buf.orientation.set(q);
      buf.angularRate.set(this.filter.rate);
    }
    // Tilt follows the published orientation while it is live (held through an outage).
    let transition: 'none' | 'warning' | 'fall' | 'cleared' = 'none';
    if (haveImu && (imuFlags & RATE_BAD) === 0) {
      const r = this.filter.rate;
      transition = this.tilt.update(q, r[0] as number, r[1] as number, r[2] as number);
    }

    const sl = buf.slots;
    sl[Slot.SAMPLE_COUNT] = this.samples;
    sl[Slot.HOST_TIME_US] = input.hostTimeUs;
    sl[Slot.MCU_TIME_US] = t;
    sl[Slot.SYNCED] = input.synced ? 1 : 0;
    sl[Slot.STATUS] = msg.status;
    sl[Slot.MCU_FAULTS] = msg.faults;
    sl[Slot.JOINT_FAULT_MASK] = msg.jointFaultMask >>> 0;
    sl[Slot.VALIDITY] = (posOk ? Valid.JOINT_POSITION : 0) | (velOk ? Valid.JOINT_VELOCITY : 0) | (effOk ? Valid.JOINT_EFFORT : 0)
      | (orientationOk ? Valid.ORIENTATION : 0) | (rateOk ? Valid.ANGULAR_RATE : 0) | (input.synced ? Valid.TIME_SYNCED : 0);
    sl[Slot.DETECTED] = detected;
    sl[Slot.JOINT_VALID_MASK] = validMask >>> 0;
    sl[Slot.TILT_RAD] = this.tilt.tiltRad;
    sl[Slot.TILT_RATE] = this.tilt.tiltRateRadS;
    sl[Slot.FALLEN] = this.tilt.fallen ? 1 : 0;
    buf.endWrite();

    // Events, after the publish: a listener that reads the buffer sees the sample that raised them.
    for (let j = 0; j < this.jointCount; j++) if (this.jointLatch.changed(j)) this.reportJoint(j, msg, input.hostTimeUs);
    if (this.cal !== null && this.imuLatch.changed(0)) this.reportImu(msg, input.hostTimeUs);
    if (transition !== 'none') {
      const ev = { tiltRad: this.tilt.tiltRad, tiltRateRadS: this.tilt.tiltRateRadS, hostTimeUs: input.hostTimeUs };
      if (transition === 'warning') this.emit('tilt-warning', ev);
      else if (transition === 'fall') this.emit('fall', ev);
      else this.emit('tilt-cleared', ev);
    }
  }

  /** The fused quaternion of the last sample was present and usable (fusedBase holds it). */
  private fusedFresh = false;

  /** Health checks, calibration, filter and cross-check for one sample; returns raw IMU bits. */
  private updateImu(msg: StateMsg, tUs: number, dtS: number): number {
    const cal = this.cal as ImuCalibration;
    const monitor = this.monitor as ImuMonitor;
    const present = (msg.flags & StateFlag.IMU) !== 0;
    let raw = monitor.check(present, msg.accel, msg.gyro, tUs, msg.imuSample);
    if ((msg.faults & Fault.IMU) !== 0) raw |= Detected.IMU_MCU_FAULT;

    this.fusedFresh = false;
    if ((msg.flags & StateFlag.ORIENTATION) !== 0) {
      const mq = msg.quat;
      const n = Math.sqrt((mq[0] as number) ** 2 + (mq[1] as number) ** 2 + (mq[2] as number) ** 2 + (mq[3] as number) ** 2);
      if (Number.isFinite(n) && Math.abs(n - 1) < 0.01) {
        // q_wb = q_ws ⊗ q_bs*: the MCU reports the sensor's orientation.
        quatMulConj(this.fusedBase, mq, cal.mount);
        quatNormalize(this.fusedBase);
        this.fusedFresh = true;
      } else {
        raw |= Detected.FUSED_INVALID;
      }
    }

    const f = this.filter;
    if (!present || (raw & GYRO_BLOCKED) !== 0 || monitor.gyroSaturated) {
      // No usable gyro sample (absent, NaN, frozen, clipped): hold, never integrate it.
      if (f.initialized) this.needsReinit = true;
      this.mismatchSinceUs = Number.NaN;
      return raw;
    }
    cal.apply(msg.accel, msg.gyro);
    const a = cal.accel, g = cal.gyro;
    const accelUsable = !monitor.accelSaturated;
    if (!f.initialized) {
      if (this.fusedFresh) f.initFromQuat(this.fusedBase);
      else if (accelUsable) f.initFromAccel(a[0] as number, a[1] as number, a[2] as number);
      f.rate.set(g);
      return raw;
    }
    if (this.needsReinit) {
      this.needsReinit = false;
      if (this.fusedFresh) f.initFromQuat(this.fusedBase);
      else if (accelUsable && Math.abs(Math.sqrt((a[0] as number) ** 2 + (a[1] as number) ** 2 + (a[2] as number) ** 2) - 9.80665) < 1.5) {
        f.initFromAccel(a[0] as number, a[1] as number, a[2] as number, yawOf(f.q));
      }
    }
    f.update(g[0] as number, g[1] as number, g[2] as number, a[0] as number, a[1] as number, a[2] as number, accelUsable, dtS);

    if (this.fusedFresh) {
      const d = tiltDisagreement(this.fusedBase, f.q);
      this.lastMismatchRad = d;
      if (d > this.o.fusedMismatchRad) {
        if (Number.isNaN(this.mismatchSinceUs)) this.mismatchSinceUs = tUs;
        if (tUs - this.mismatchSinceUs >= this.o.fusedMismatchAfterUs) raw |= Detected.ORIENTATION_MISMATCH;
      } else {
        this.mismatchSinceUs = Number.NaN;
      }
    }
    return raw;
  }

  private reportJoint(j: number, msg: StateMsg, hostTimeUs: number): void {
    const now = this.jointLatch.flags[j] as number, before = this.jointLatch.previous[j] as number;
    const jp = this.profile.joints[j] as JointProfile;
    for (let bits = (now & ~before) >>> 0; bits !== 0; bits &= bits - 1) {
      const bit = bits & -bits;
      this.emit('sensor-fault', { sensor: 'joint', kind: detectedName(bit), joint: j, hostTimeUs, detail: this.jointDetail(bit, j, jp, msg) });
    }
    for (let bits = (before & ~now) >>> 0; bits !== 0; bits &= bits - 1) {
      const bit = bits & -bits;
      this.emit('sensor-recovered', { sensor: 'joint', kind: detectedName(bit), joint: j, hostTimeUs, detail: `joint ${j} (${jp.name}): ${detectedName(bit)} cleared after ${this.o.recoverAfterSamples} clean samples` });
    }
  }

  private jointDetail(bit: number, j: number, jp: JointProfile, msg: StateMsg): string {
    const who = `joint ${j} (${jp.name})`;
    switch (bit) {
      case Detected.ENCODER_GLITCH: {
        const reading = countsToRad(jp, msg.position[j] as number);
        const held = this.buffer.position[j] as number;
        return `${who}: reading ${msg.position[j]} counts = ${reading.toFixed(4)} rad jumps ${(reading - held).toFixed(4)} rad from the last good ${held.toFixed(4)} rad, beyond velocityMax ${jp.limits.velocityMax} rad/s`;
      }
      case Detected.JOINT_NAN:
        return `${who}: velocity ${msg.velocity[j]} counts/s, current ${msg.current[j]} A (non-finite)`;
      case Detected.VELOCITY_IMPOSSIBLE:
        return `${who}: velocity ${msg.velocity[j]} counts/s = ${cpsToRadPerSec(jp, msg.velocity[j] as number).toExponential(3)} rad/s, beyond ${this.o.glitchFactor} × velocityMax ${jp.limits.velocityMax} rad/s`;
      case Detected.JOINT_MCU_FAULT:
        return `${who}: the MCU flags it (joint_fault_mask 0x${(msg.jointFaultMask >>> 0).toString(16)}, faults 0x${msg.faults.toString(16)})`;
      case Detected.VELOCITY_MISMATCH:
        return `${who}: MCU velocity ${cpsToRadPerSec(jp, msg.velocity[j] as number).toFixed(4)} rad/s vs ${(this.joints.countVelocity[j] as number).toFixed(4)} rad/s from counts`;
      default:
        return `${who}: ${detectedName(bit)}`;
    }
  }

  private reportImu(msg: StateMsg, hostTimeUs: number): void {
    const now = this.imuLatch.flags[0] as number, before = this.imuLatch.previous[0] as number;
    for (let bits = (now & ~before & IMU_DETECTED) >>> 0; bits !== 0; bits &= bits - 1) {
      const bit = bits & -bits;
      this.emit('sensor-fault', { sensor: 'imu', kind: detectedName(bit), joint: -1, hostTimeUs, detail: this.imuDetail(bit, msg) });
    }
    for (let bits = (before & ~now & IMU_DETECTED) >>> 0; bits !== 0; bits &= bits - 1) {
      const bit = bits & -bits;
      this.emit('sensor-recovered', { sensor: 'imu', kind: detectedName(bit), joint: -1, hostTimeUs, detail: `IMU: ${detectedName(bit)} cleared after ${this.o.recoverAfterSamples} clean samples` });
    }
  }

  private imuDetail(bit: number, msg: StateMsg): string {
    const v3 = (v: Float32Array): string => `(${v[0]}, ${v[1]}, ${v[2]})`;
    switch (bit) {
      case Detected.IMU_NAN: return `IMU: non-finite sample, accel ${v3(msg.accel)} m/s², gyro ${v3(msg.gyro)} rad/s`;
      case Detected.IMU_FROZEN: return `IMU: the same sample, accel ${v3(msg.accel)} gyro ${v3(msg.gyro)}, repeated for ${(this.o.imuFrozenAfterUs / 1000).toFixed(1)} ms or more`;
      case Detected.IMU_SATURATED: return `IMU: accel ${v3(msg.accel)} m/s² or gyro ${v3(msg.gyro)} rad/s at the limit (${this.o.accelSaturationMs2.toFixed(1)} m/s², ${this.o.gyroSaturationRadS.toFixed(2)} rad/s)`;
      case Detected.IMU_STALE: return `IMU: no IMU block in STATE for ${(this.o.imuStaleAfterUs / 1000).toFixed(1)} ms or more`;
      case Detected.ORIENTATION_MISMATCH: return `IMU: the MCU's fused tilt and the host filter's differ by ${(this.lastMismatchRad * RAD2DEG).toFixed(2)}° (limit ${(this.o.fusedMismatchRad * RAD2DEG).toFixed(2)}°)`;
      case Detected.FUSED_INVALID: return `IMU: fused orientation (${msg.quat[0]}, ${msg.quat[1]}, ${msg.quat[2]}, ${msg.quat[3]}) is not a finite unit quaternion`;
      case Detected.IMU_MCU_FAULT: return `IMU: the MCU reports an IMU fault (faults 0x${msg.faults.toString(16)})`;
      default: return `IMU: ${detectedName(bit)}`;
    }
  }
}
