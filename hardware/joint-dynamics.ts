/**
 * Joint dynamics of the simulated plant: each joint is its servo drive's closed loop, a cascade
 * of a position loop (gain kP = ωn / 2ζ, 1/s) feeding a velocity loop (gain kV = 2ζωn, 1/s):
 *   v_ref = v* + P(q* - q),   a = kV (v_ref - qd) + kA · I_ff,    ωn = 2π · naturalFrequencyHz,
 * where P(e) = kP·e for small errors, so the small-signal response is exactly the second-order
 * system  a = ωn² (q* - q) + 2ζωn (v* - qd) + kA·I_ff  of the profile's naturalFrequencyHz and
 * dampingRatio. For large errors P grows as sqrt(2·BRAKING·accelerationMax·|e|) instead (the
 * "square-root controller" of ArduPilot), so the drive starts braking in time and a big step does
 * not overshoot; v_ref is clamped to ±velocityMax. Then a is clamped to ±accelerationMax, qd to
 * ±velocityMax, and q stops hard at the limits (the velocity into the stop zeroed). Integrated by
 * semi-implicit Euler in sub-steps short enough for stability (see maxSubStepS).
 *
 * Modelling assumptions: no gravity or external load; the drive is sized so that currentMax gives
 * exactly accelerationMax, so kA = accelerationMax / currentMax (rad/s² per A) and the reported
 * current is a / kA. A limp joint (mode 'disable' or a motor fault) draws no current and coasts,
 * slowed by viscous friction with rate COAST_FRICTION_PER_S.
 *
 * Invariants after every sub-step: positionMin <= q <= positionMax, |qd| <= velocityMax,
 * |current| <= currentMax. Allocation-free after construction.
 */
import type { PlantMode } from './plant-types.js';
import type { JointProfile } from './profile-types.js';

/** 1/s: a coasting joint loses velocity as exp(-COAST_FRICTION_PER_S · t). */
export const COAST_FRICTION_PER_S = 5;
/** Share of accelerationMax the position loop plans to brake with; the rest absorbs the velocity
 * loop's lag. */
const BRAKING = 0.8;
/** The longest sub-step, s. */
const MAX_SUB_STEP_S = 1e-3;

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Velocity (rad/s) to close a position error e (rad): kP·e near zero, and beyond the distance
 * where that would demand more than `accel` to stop, the speed from which `accel` stops the joint
 * exactly at the target. Continuous, with a continuous slope. */
export function sqrtController(e: number, kP: number, accel: number): number {
  const linear = accel / (kP * kP);
  if (e > linear) return Math.sqrt(2 * accel * (e - linear / 2));
  if (e < -linear) return -Math.sqrt(2 * accel * (-e - linear / 2));
  return kP * e;
}

export class JointDynamics {
  readonly n: number;
  readonly q: Float64Array;
  readonly qd: Float64Array;
  readonly current: Float64Array;
  /** 1 where the joint's motor has failed (limp regardless of mode). */
  readonly motorFault: Uint8Array;
  /** Sub-step length bound, s: ≤ 1 ms and ≤ 0.1 / (ωn (1 + 2ζ)) for the stiffest joint. */
  readonly maxSubStepS: number;

  // A fresh drive boots with its motors off.
  private mode: PlantMode = 'disable';
  private readonly targetQ: Float64Array;
  private readonly targetV: Float64Array;
  private readonly feedforwardA: Float64Array;
  // Per-joint constants, precomputed.
  private readonly kP: Float64Array;
  private readonly kV: Float64Array;
  private readonly accelPerAmp: Float64Array;

  constructor(private readonly joints: readonly JointProfile[], initialPose: ArrayLike<number>) {
    const n = joints.length;
    this.n = n;
    this.q = new Float64Array(n);
    this.qd = new Float64Array(n);
    this.current = new Float64Array(n);
    this.motorFault = new Uint8Array(n);
    this.targetQ = new Float64Array(n);
    this.targetV = new Float64Array(n);
    this.feedforwardA = new Float64Array(n);
    this.kP = new Float64Array(n);
    this.kV = new Float64Array(n);
    this.accelPerAmp = new Float64Array(n);
    let fastest = 0;
    joints.forEach((j, i) => {
      const omega = 2 * Math.PI * j.servo.naturalFrequencyHz;
      this.kP[i] = omega / (2 * j.servo.dampingRatio);
      this.kV[i] = 2 * j.servo.dampingRatio * omega;
      this.accelPerAmp[i] = j.limits.accelerationMax / j.limits.currentMax;
      fastest = Math.max(fastest, omega * (1 + 2 * j.servo.dampingRatio));
      const q0 = initialPose[i] as number;
      this.q[i] = q0;
      this.targetQ[i] = q0;
    });
    this.maxSubStepS = Math.min(MAX_SUB_STEP_S, 0.1 / fastest);
  }

  get currentMode(): PlantMode {
    return this.mode;
  }

  /** Arrays are validated by the caller (length n, finite). Entering 'hold' latches the present
   * angles; entering 'velocity' starts the reference from the present angles. */
  setCommand(mode: PlantMode, position: ArrayLike<number>, velocity: ArrayLike<number>, feedforwardA: ArrayLike<number>): void {
    const entering = mode !== this.mode;
    this.mode = mode;
    for (let i = 0; i < this.n; i++) {
      const lim = (this.joints[i] as JointProfile).limits;
      switch (mode) {
        case 'disable':
          break;
        case 'hold':
          if (entering) this.targetQ[i] = this.q[i] as number;
          this.targetV[i] = 0;
          this.feedforwardA[i] = 0;
          break;
        case 'position':
          this.targetQ[i] = clamp(position[i] as number, lim.positionMin, lim.positionMax);
          this.targetV[i] = clamp(velocity[i] as number, -lim.velocityMax, lim.velocityMax);
          this.feedforwardA[i] = clamp(feedforwardA[i] as number, -lim.currentMax, lim.currentMax);
          break;
        case 'velocity':
          if (entering) this.targetQ[i] = this.q[i] as number;
          this.targetV[i] = clamp(velocity[i] as number, -lim.velocityMax, lim.velocityMax);
          this.feedforwardA[i] = clamp(feedforwardA[i] as number, -lim.currentMax, lim.currentMax);
          break;
        case 'current':
          this.feedforwardA[i] = clamp(feedforwardA[i] as number, -lim.currentMax, lim.currentMax);
          break;
      }
    }
  }

  /** Advances every joint by h seconds (h <= maxSubStepS). */
  subStep(h: number): void {
    const mode = this.mode;
    for (let i = 0; i < this.n; i++) {
      const lim = (this.joints[i] as JointProfile).limits;
      const kA = this.accelPerAmp[i] as number;
      let q = this.q[i] as number;
      let qd = this.qd[i] as number;
      let a: number;
      let amps: number;
      if (mode === 'disable' || this.motorFault[i] === 1) {
        amps = 0;
        a = -COAST_FRICTION_PER_S * qd;
      } else if (mode === 'current') {
        amps = this.feedforwardA[i] as number;
        a = amps * kA;
      } else {
        let vTarget = this.targetV[i] as number;
        if (mode === 'velocity') {
          // The drive integrates the velocity target into a position reference kept inside limits.
          const ref = (this.targetQ[i] as number) + vTarget * h;
          const clamped = clamp(ref, lim.positionMin, lim.positionMax);
          if (clamped !== ref) vTarget = 0;
          this.targetQ[i] = clamped;
        }
        const vRef = clamp(
          vTarget + sqrtController((this.targetQ[i] as number) - q, this.kP[i] as number, BRAKING * lim.accelerationMax),
          -lim.velocityMax,
          lim.velocityMax,
        );
        a = (this.kV[i] as number) * (vRef - qd) + (this.feedforwardA[i] as number) * kA;
        a = clamp(a, -lim.accelerationMax, lim.accelerationMax);
        amps = a / kA;
      }
      qd = clamp(qd + a * h, -lim.velocityMax, lim.velocityMax);
      q += qd * h;
      if (q <= lim.positionMin) {
        q = lim.positionMin;
        if (qd < 0) qd = 0;
      } else if (q >= lim.positionMax) {
        q = lim.positionMax;
        if (qd > 0) qd = 0;
      }
      this.q[i] = q;
      this.qd[i] = qd;
      this.current[i] = amps;
    }
  }
}
