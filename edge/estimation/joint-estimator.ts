/**
 * Calibrated joint state from STATE's joint block: encoder counts → rad (hardware/calibration,
 * which handles gear ratio, direction, zero offset and single-turn wrap-around), velocity, effort,
 * and glitch rejection. Allocation-free after construction.
 *
 * Velocity. Two sources: the MCU's counts/s (timed where the encoder edges are, no host-side
 * quantisation, no delay added here) and a window difference of the counts,
 *   v_cnt = (θ_k − θ_{k−W}) / (t_k − t_{k−W}),
 * an unweighted average of the last W sample-to-sample rates whose group delay is exactly half the
 * window, (t_k − t_{k−W}) / 2 = W / 2 samples (4 ms for W = 8 at 1 kHz), and whose quantisation
 * noise is at most one count per window span (3.8e-4 rad / 8 ms ≈ 0.05 rad/s for a 14-bit
 * single-turn knee; 5e-4 rad/s for a 14-bit motor encoder behind a 100:1 gear).
 * We publish the MCU's value, because it is both less delayed and less noisy, as long as it is
 * finite and agrees with v_cnt within what the window's delay and quantisation explain
 * (2·accelerationMax·delay + 2 counts / span + 2 % of velocityMax); otherwise v_cnt, flagged.
 *
 * A finite MCU velocity beyond glitchFactor · velocityMax is no measurement: flagged
 * (VELOCITY_IMPOSSIBLE) and replaced by v_cnt, like a NaN.
 *
 * Glitch rejection. A reading θ is plausible when |θ − θ_acc| ≤ glitchFactor · velocityMax ·
 * (t − t_acc) + 2 counts, where θ_acc, t_acc is the last accepted reading: the plant can never
 * move faster than velocityMax. An implausible reading is flagged (ENCODER_GLITCH) and not used:
 * the position holds θ_acc. If the jump was real (an encoder re-homed, a slipped belt), the
 * readings after it agree with each other: the `glitchAcceptAfter`-th consecutive suspect reading,
 * each plausible relative to the one before, is accepted and the estimate re-anchors on the new level (velocity
 * window restarted). A one-sample glitch is simply followed by a plausible reading.
 */
import { countsPerRad, countsToRad, cpsToRadPerSec, currentToTorque, type JointProfile } from '../../hardware/index.js';
import type { StateMsg } from '../../proto/wire/index.js';
import { Detected } from './estimation-flags.js';

export interface JointEstimatorOptions {
  /** Samples in the velocity difference window (≥ 1). */
  velocityWindow: number;
  /** Multiple of velocityMax a reading may imply before it counts as a glitch (≥ 1). */
  glitchFactor: number;
  /** Consecutive self-consistent suspect readings after which a jump is accepted as real. */
  glitchAcceptAfter: number;
}

/** Outputs, written in place (they may be views into an ObservationBuffer). */
export interface JointOutputs {
  /** rad */
  position: Float64Array;
  /** rad/s */
  velocity: Float64Array;
  /** Nm */
  effort: Float64Array;
}

export class JointEstimator {
  readonly jointCount: number;
  /** This sample's raw Detected bits per joint (before latching). */
  readonly raw: Uint32Array;
  /** rad/s: the counts-derived velocity (the cross-check), per joint. */
  readonly countVelocity: Float64Array;
  private readonly joints: readonly JointProfile[];
  private readonly out: JointOutputs;
  private readonly o: JointEstimatorOptions;
  /** rad per count, per joint. */
  private readonly quantum: Float64Array;
  /** Last accepted reading: angle rad and time µs; NaN time before the first. */
  private readonly accRad: Float64Array;
  private readonly accUs: Float64Array;
  /** Last suspect reading and how many consecutive suspect readings agree with each other. */
  private readonly suspectRad: Float64Array;
  private readonly suspectUs: Float64Array;
  private readonly suspectCount: Uint32Array;
  /** Ring of the last W+1 accepted (angle, time) per joint, at j·(W+1); head = next write. */
  private readonly ringRad: Float64Array;
  private readonly ringUs: Float64Array;
  private readonly ringHead: Uint32Array;
  private readonly ringCount: Uint32Array;
  private readonly ringLen: number;

  constructor(joints: readonly JointProfile[], outputs: JointOutputs, opts: JointEstimatorOptions) {
    const n = joints.length;
    if (!(opts.velocityWindow >= 1 && Number.isInteger(opts.velocityWindow))) throw new RangeError(`velocityWindow must be an integer >= 1 (got ${opts.velocityWindow})`);
    if (!(opts.glitchFactor >= 1)) throw new RangeError(`glitchFactor must be >= 1 (got ${opts.glitchFactor})`);
    if (!(opts.glitchAcceptAfter >= 1 && Number.isInteger(opts.glitchAcceptAfter))) throw new RangeError(`glitchAcceptAfter must be an integer >= 1 (got ${opts.glitchAcceptAfter})`);
    for (const k of ['position', 'velocity', 'effort'] as const) {
      if (outputs[k].length < n) throw new RangeError(`JointEstimator: outputs.${k} has room for ${outputs[k].length} joints, need ${n}`);
    }
    this.jointCount = n;
    this.joints = joints;
    this.out = outputs;
    this.o = opts;
    this.raw = new Uint32Array(n);
    this.countVelocity = new Float64Array(n);
    this.quantum = Float64Array.from(joints, (j) => 1 / countsPerRad(j));
    this.accRad = new Float64Array(n);
    this.accUs = new Float64Array(n).fill(Number.NaN);
    this.suspectRad = new Float64Array(n);
    this.suspectUs = new Float64Array(n);
    this.suspectCount = new Uint32Array(n);
    this.ringLen = opts.velocityWindow + 1;
    this.ringRad = new Float64Array(n * this.ringLen);
    this.ringUs = new Float64Array(n * this.ringLen);
    this.ringHead = new Uint32Array(n);
    this.ringCount = new Uint32Array(n);
  }

  /**
   * The MCU's clock started again (it restarted, or the link reconnected): readings timed on the
   * old clock are no reference for the new. The next reading is accepted as the first (the joints
   * are where it says; a glitch test against a reading on another time base would hold a stale
   * position) and the velocity window restarts.
   */
  restartTimeBase(): void {
    this.accUs.fill(Number.NaN);
    this.suspectCount.fill(0);
    this.ringCount.fill(0);
    this.countVelocity.fill(0);
  }

  /** Group delay of the counts-derived velocity, s, at a sample period of `periodS`. */
  velocityDelayS(periodS: number): number {
    return (this.o.velocityWindow * periodS) / 2;
  }

  /** Consumes one STATE joint block sampled at MCU time tUs (µs). */
  update(msg: StateMsg, tUs: number): void {
    const n = this.jointCount;
    const faultMask = msg.jointFaultMask >>> 0;
    for (let j = 0; j < n; j++) {
      const jp = this.joints[j] as JointProfile;
      let raw = 0;
      if (((faultMask >>> j) & 1) === 1) raw |= Detected.JOINT_MCU_FAULT;
      const theta = countsToRad(jp, msg.position[j] as number);
      if (!this.accept(j, jp, theta, tUs)) raw |= Detected.ENCODER_GLITCH;
      this.out.position[j] = this.accRad[j] as number;

      // Velocity: the MCU's if finite and consistent, else the counts-derived one.
      const vCnt = this.countVelocity[j] as number;
      const cps = msg.velocity[j] as number;
      let v = vCnt;
      if (!Number.isFinite(cps)) {
        raw |= Detected.JOINT_NAN;
      } else {
        const vMcu = cpsToRadPerSec(jp, cps);
        if (Math.abs(vMcu) > this.o.glitchFactor * jp.limits.velocityMax) raw |= Detected.VELOCITY_IMPOSSIBLE;
        else if (this.ringCount[j] as number < 2 || Math.abs(vMcu - vCnt) <= this.velocityTolerance(j, jp)) v = vMcu;
        else raw |= Detected.VELOCITY_MISMATCH;
      }
      this.out.velocity[j] = v;

      const amps = msg.current[j] as number;
      if (Number.isFinite(amps)) {
        this.out.effort[j] = currentToTorque(jp, amps);
      } else {
        this.out.effort[j] = Number.NaN;
        raw |= Detected.JOINT_NAN;
      }
      this.raw[j] = raw;
    }
  }

  /** Glitch gate; on acceptance records the reading and refreshes the counts velocity. */
  private accept(j: number, jp: JointProfile, theta: number, tUs: number): boolean {
    const accUs = this.accUs[j] as number;
    if (Number.isNaN(accUs) || Math.abs(theta - (this.accRad[j] as number)) <= this.reach(j, jp, tUs - accUs)) {
      // After suspect readings the window would straddle the gap: restart it.
      this.record(j, theta, tUs, this.suspectCount[j] !== 0);
      this.suspectCount[j] = 0;
      return true;
    }
    // Suspect: does it continue the previous suspect reading?
    const sc = this.suspectCount[j] as number;
    const consistent = sc > 0 && Math.abs(theta - (this.suspectRad[j] as number)) <= this.reach(j, jp, tUs - (this.suspectUs[j] as number));
    const count = consistent ? sc + 1 : 1;
    this.suspectRad[j] = theta;
    this.suspectUs[j] = tUs;
    if (count >= this.o.glitchAcceptAfter) {
      // The jump was real: re-anchor (this sample is good again).
      this.suspectCount[j] = 0;
      this.record(j, theta, tUs, true);
      return true;
    }
    this.suspectCount[j] = count;
    return false;
  }

  /** rad the joint can move in dtUs µs, plus two counts of quantisation. */
  private reach(j: number, jp: JointProfile, dtUs: number): number {
    return this.o.glitchFactor * jp.limits.velocityMax * (dtUs > 0 ? dtUs : 0) * 1e-6 + 2 * (this.quantum[j] as number);
  }

  private record(j: number, theta: number, tUs: number, restart: boolean): void {
    this.accRad[j] = theta;
    this.accUs[j] = tUs;
    const base = j * this.ringLen;
    if (restart) this.ringCount[j] = 0;
    const head = this.ringHead[j] as number;
    this.ringRad[base + head] = theta;
    this.ringUs[base + head] = tUs;
    const count = Math.min(this.ringLen, (this.ringCount[j] as number) + 1);
    this.ringCount[j] = count;
    this.ringHead[j] = (head + 1) % this.ringLen;
    if (count < 2) {
      this.countVelocity[j] = 0;
      return;
    }
    const oldest = (head + this.ringLen - (count - 1)) % this.ringLen;
    const spanUs = tUs - (this.ringUs[base + oldest] as number);
    if (spanUs > 0) this.countVelocity[j] = ((theta - (this.ringRad[base + oldest] as number)) / spanUs) * 1e6;
  }

  /** rad/s the two velocity sources may differ by (see the header). */
  private velocityTolerance(j: number, jp: JointProfile): number {
    const base = j * this.ringLen;
    const count = this.ringCount[j] as number;
    const head = this.ringHead[j] as number;
    const newest = (head + this.ringLen - 1) % this.ringLen;
    const oldest = (head + this.ringLen - count) % this.ringLen;
    const spanS = ((this.ringUs[base + newest] as number) - (this.ringUs[base + oldest] as number)) * 1e-6;
    if (!(spanS > 0)) return Number.POSITIVE_INFINITY;
    return 2 * jp.limits.accelerationMax * (spanS / 2) + (2 * (this.quantum[j] as number)) / spanS + 0.02 * jp.limits.velocityMax;
  }
}
