/**
 * The simulated plant: a robot's joints (servo drives), its base IMU and its encoders, driven
 * by the commands a firmware would send to its drives and read the way the firmware reads its
 * sensors, in the wire's units. Faults can be injected. Deterministic for a given seed and call
 * sequence. step() and sense() allocate nothing.
 *
 * Time only advances in step(); sense() samples the present state (the IMU at its own rate).
 */
import { BaseMotion } from './base-motion.js';
import { radPerSecToCps, radToCounts } from './calibration.js';
import { ImuSim } from './imu-sim.js';
import { JointDynamics } from './joint-dynamics.js';
import {
  FAULT_ENCODER,
  FAULT_IMU,
  FAULT_MOTOR,
  type FaultBits,
  type PlantFault,
  type PlantMode,
  type PlantOptions,
  type PlantTruth,
} from './plant-types.js';
import type { JointProfile, RobotProfile } from './profile-types.js';
import { Rng } from './rng.js';
import type { SensorReading } from './sensor-reading.js';

const DEFAULT_VELOCITY_NOISE_RAD_PER_S = 0.002;
const DEFAULT_CURRENT_NOISE_A = 0.01;
const NO_FAULTS: FaultBits = Object.freeze({ faults: 0, jointFaultMask: 0 });

interface MutableTruth extends PlantTruth {
  timeS: number;
}

export class Plant {
  readonly profile: RobotProfile;
  readonly jointCount: number;
  /** Ground truth; arrays update in place. */
  readonly truth: PlantTruth;

  private readonly state: MutableTruth;
  private readonly joints: JointDynamics;
  private readonly base = new BaseMotion();
  private readonly imu: ImuSim;
  private readonly rng: Rng;
  private readonly velocityNoise: number;
  private readonly currentNoise: number;
  /** Counts added to the next reading only (encoder-glitch), per joint. */
  private readonly pendingGlitch: Float64Array;
  /** 1 where the encoder is frozen; frozenCounts holds what it keeps reporting. */
  private readonly encoderFrozen: Uint8Array;
  private readonly frozenCounts: Int32Array;
  /** Recomputed only when faults change, so faultBits() never allocates. */
  private bits: FaultBits = NO_FAULTS;

  constructor(profile: RobotProfile, opts: PlantOptions = {}) {
    const n = profile.joints.length;
    const pose = opts.initialPose ?? (profile.poses['home'] as number[]);
    if (pose.length !== n) throw new RangeError(`Plant: initialPose has ${pose.length} values, the profile ${profile.id} has ${n} joints`);
    profile.joints.forEach((j, i) => {
      const q = pose[i] as number;
      if (!(q >= j.limits.positionMin && q <= j.limits.positionMax)) {
        throw new RangeError(`Plant: initialPose[${i}] = ${q} is outside joints[${i}] (${j.name}) limits [${j.limits.positionMin}, ${j.limits.positionMax}]`);
      }
    });
    this.profile = profile;
    this.jointCount = n;
    this.rng = new Rng(opts.seed ?? 1);
    this.velocityNoise = opts.jointNoise?.velocityRadPerSec ?? DEFAULT_VELOCITY_NOISE_RAD_PER_S;
    this.currentNoise = opts.jointNoise?.currentA ?? DEFAULT_CURRENT_NOISE_A;
    this.joints = new JointDynamics(profile.joints, pose);
    this.imu = new ImuSim(profile.imu, this.rng);
    this.pendingGlitch = new Float64Array(n);
    this.encoderFrozen = new Uint8Array(n);
    this.frozenCounts = new Int32Array(n);
    this.state = {
      timeS: 0,
      q: this.joints.q,
      qd: this.joints.qd,
      current: this.joints.current,
      baseQuat: this.base.quat,
      baseAngVel: this.base.angVel,
      gyroBias: this.imu.gyroBias,
    };
    this.truth = this.state;
  }

  /** The mode of the last setCommand ('disable' until the first). */
  get mode(): PlantMode {
    return this.joints.currentMode;
  }

  /** Longest integration sub-step, s; step(dt) splits dt into ceil(dt / maxSubStepS) equal parts. */
  get maxSubStepS(): number {
    return this.joints.maxSubStepS;
  }

  /** Sets the drives' targets: position rad, velocity rad/s, feed-forward current A, one per joint
   * (ignored, and may be empty, for 'disable' and 'hold'). Targets are clamped to the joint
   * limits as a drive would; non-finite values or wrong lengths throw RangeError. */
  setCommand(mode: PlantMode, position: ArrayLike<number>, velocity: ArrayLike<number>, feedforwardCurrent: ArrayLike<number>): void {
    if (mode !== 'disable' && mode !== 'hold') {
      checkVector('position', position, this.jointCount);
      checkVector('velocity', velocity, this.jointCount);
      checkVector('feedforwardCurrent', feedforwardCurrent, this.jointCount);
    }
    this.joints.setCommand(mode, position, velocity, feedforwardCurrent);
  }

  /** Advances the simulation by dtSeconds (>= 0, finite). */
  step(dtSeconds: number): void {
    if (!(dtSeconds >= 0 && dtSeconds < Number.POSITIVE_INFINITY)) throw new RangeError(`Plant.step: dt must be finite and >= 0 (got ${dtSeconds})`);
    if (dtSeconds === 0) return;
    const parts = Math.ceil(dtSeconds / this.joints.maxSubStepS);
    const h = dtSeconds / parts;
    const t0 = this.state.timeS;
    for (let k = 1; k <= parts; k++) {
      this.joints.subStep(h);
      this.base.step(t0 + k * h, h);
    }
    this.state.timeS = t0 + dtSeconds;
  }

  /** Body-frame angular velocity of the base, rad/s; held until changed (or a fall ends). */
  setBaseAngularVelocity(w: ArrayLike<number>): void {
    this.base.setAngularVelocity(w[0] ?? 0, w[1] ?? 0, w[2] ?? 0);
  }

  /** Reads every sensor into `out` (from newSensorReading(jointCount)). */
  sense(out: SensorReading): void {
    if (out.encoderCounts.length < this.jointCount) throw new RangeError(`Plant.sense: reading has room for ${out.encoderCounts.length} joints, need ${this.jointCount}`);
    const rng = this.rng;
    const joints = this.profile.joints;
    for (let i = 0; i < this.jointCount; i++) {
      const j = joints[i] as JointProfile;
      if (this.encoderFrozen[i] === 1) {
        out.encoderCounts[i] = this.frozenCounts[i] as number;
        out.velocityCps[i] = 0;
      } else {
        let counts = radToCounts(j, this.state.q[i] as number);
        const glitch = this.pendingGlitch[i] as number;
        if (glitch !== 0) {
          counts += glitch;
          if (j.encoder.singleTurn) counts = ((counts % j.encoder.countsPerRev) + j.encoder.countsPerRev) % j.encoder.countsPerRev;
          this.pendingGlitch[i] = 0;
        }
        out.encoderCounts[i] = counts;
        out.velocityCps[i] = radPerSecToCps(j, (this.state.qd[i] as number) + this.velocityNoise * rng.normal());
      }
      out.currentA[i] = (this.state.current[i] as number) + this.currentNoise * rng.normal();
    }
    this.imu.read(out, this.base, this.state.timeS);
  }

  injectFault(f: PlantFault): void {
    switch (f.kind) {
      case 'motor':
        this.joints.motorFault[this.jointIndex(f)] = 1;
        break;
      case 'encoder-glitch': {
        if (!Number.isInteger(f.counts)) throw new RangeError(`Plant.injectFault: encoder-glitch counts must be an integer (got ${f.counts})`);
        const i = this.jointIndex(f);
        this.pendingGlitch[i] = (this.pendingGlitch[i] as number) + f.counts;
        break;
      }
      case 'encoder-freeze': {
        const i = this.jointIndex(f);
        if (this.encoderFrozen[i] !== 1) {
          this.encoderFrozen[i] = 1;
          this.frozenCounts[i] = radToCounts(this.profile.joints[i] as JointProfile, this.state.q[i] as number);
        }
        break;
      }
      case 'fall':
        this.base.startFall(this.state.timeS, f.axis ?? 'x');
        break;
      case 'imu-freeze':
        this.imu.frozen = true;
        break;
      case 'imu-nan':
        this.imu.nan = true;
        break;
    }
    this.bits = this.computeFaultBits();
  }

  /** Clears every device fault (motors, encoders, IMU, pending glitches). A fall under way goes
   * on, and a fallen base stays where it fell. */
  clearFaults(): void {
    this.joints.motorFault.fill(0);
    this.encoderFrozen.fill(0);
    this.pendingGlitch.fill(0);
    this.imu.frozen = false;
    this.imu.nan = false;
    this.bits = NO_FAULTS;
  }

  /** STATE.faults and STATE.joint_fault_mask for the present faults. The returned object is
   * immutable and shared until the faults change. */
  faultBits(): FaultBits {
    return this.bits;
  }

  private computeFaultBits(): FaultBits {
    let faults = 0;
    let mask = 0;
    for (let i = 0; i < this.jointCount; i++) {
      if (this.joints.motorFault[i] === 1) {
        faults |= FAULT_MOTOR;
        mask |= 1 << i;
      }
      if (this.encoderFrozen[i] === 1) {
        faults |= FAULT_ENCODER;
        mask |= 1 << i;
      }
    }
    if (this.imu.frozen || this.imu.nan) faults |= FAULT_IMU;
    return faults === 0 && mask === 0 ? NO_FAULTS : Object.freeze({ faults, jointFaultMask: mask >>> 0 });
  }

  private jointIndex(f: { kind: string; joint: number }): number {
    if (!(Number.isInteger(f.joint) && f.joint >= 0 && f.joint < this.jointCount)) {
      throw new RangeError(`Plant.injectFault: ${f.kind} joint must be an integer in 0..${this.jointCount - 1} (got ${f.joint})`);
    }
    return f.joint;
  }
}

function checkVector(name: string, v: ArrayLike<number>, n: number): void {
  if (v.length !== n) throw new RangeError(`Plant.setCommand: ${name} has ${v.length} values, expected ${n}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i])) throw new RangeError(`Plant.setCommand: ${name}[${i}] must be finite (got ${v[i]})`);
  }
}
