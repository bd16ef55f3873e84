/**
 * Joint limits applied to every command at the last step before the wire, in the manner of
 * LeRobot's ensure_safe_goal_position: each target is bounded relative to the last command
 * actually sent, for one tick period `dt`:
 *   v_des = (target - last) / dt                                   rad/s
 *   v     = clamp(v_des, max(-vMax, vPrev - aMax dt), min(vMax, vPrev + aMax dt))
 *   p     = clamp(last + v dt, positionMin, positionMax)           rad
 * where vPrev is the velocity of the last sent command. The position bound wins over the
 * acceleration bound (a joint stops at its limit). A joint primed outside its range (measured
 * beyond a limit) is not pulled to the limit in one step: its bound widens to where it is, so it
 * may only move back toward the range, at the velocity and acceleration bounds. Allocation-free:
 * callers own the arrays.
 *
 * Invariant: while primed, every joint's lastPosition lies within [positionMin, positionMax] or no
 * further outside it than where the joint was primed, and |lastVelocity| <= velocityMax.
 */
import type { JointLimits } from '../../hardware/index.js';

/** Per-joint clamp flags (bits). */
export const ClampFlag = { NONE: 0, POSITION: 1, VELOCITY: 2, ACCELERATION: 4 } as const;

export class CommandLimiter {
  readonly jointCount: number;
  /** rad: the last command sent. */
  readonly lastPosition: Float64Array;
  /** rad/s: its velocity, (p - previous p) / dt. */
  readonly lastVelocity: Float64Array;
  private primedFlag = false;

  /** `periodS`: the tick period in seconds (> 0). */
  constructor(private readonly limits: readonly JointLimits[], private readonly periodS: number) {
    if (!(periodS > 0)) throw new RangeError(`CommandLimiter: period ${periodS} s must be > 0`);
    this.jointCount = limits.length;
    this.lastPosition = new Float64Array(this.jointCount);
    this.lastVelocity = new Float64Array(this.jointCount);
  }

  /** Whether a reference command exists (prime() or commit() since the last unprime()). */
  get primed(): boolean {
    return this.primedFlag;
  }

  /** Seeds the reference from measured positions (rad, finite: checked by the caller), at rest.
   * Not clipped: the first command starts where the joints are. */
  prime(position: ArrayLike<number>): void {
    for (let j = 0; j < this.jointCount; j++) {
      this.lastPosition[j] = position[j] as number;
      this.lastVelocity[j] = 0;
    }
    this.primedFlag = true;
  }

  /** True when the last command sent had a non-zero velocity on some joint. */
  get moving(): boolean {
    for (let j = 0; j < this.jointCount; j++) if (this.lastVelocity[j] !== 0) return true;
    return false;
  }

  /** Forgets the reference (after a stop: the robot may have moved). */
  unprime(): void {
    this.primedFlag = false;
  }

  /**
   * Writes the limited command for `target` (rad, finite, checked by the caller) into `outPos`
   * (rad) and `outVel` (rad/s), and per-joint ClampFlag bits into `flags`. Returns the number of
   * joints clamped. Needs primed. Does not update the reference: commit() does, once sent.
   */
  limit(target: ArrayLike<number>, outPos: Float64Array, outVel: Float64Array, flags: Uint8Array): number {
    if (!this.primedFlag) throw new Error('CommandLimiter.limit before prime()');
    const dt = this.periodS;
    let clamped = 0;
    for (let j = 0; j < this.jointCount; j++) {
      const l = this.limits[j] as JointLimits;
      const last = this.lastPosition[j] as number;
      const vPrev = this.lastVelocity[j] as number;
      const vDes = ((target[j] as number) - last) / dt;
      const aLo = vPrev - l.accelerationMax * dt, aHi = vPrev + l.accelerationMax * dt;
      const lo = Math.max(-l.velocityMax, aLo), hi = Math.min(l.velocityMax, aHi);
      let f: number = ClampFlag.NONE;
      let v = vDes;
      if (v > hi) { v = hi; f |= hi === l.velocityMax ? ClampFlag.VELOCITY : ClampFlag.ACCELERATION; }
      else if (v < lo) { v = lo; f |= lo === -l.velocityMax ? ClampFlag.VELOCITY : ClampFlag.ACCELERATION; }
      let p = last + v * dt;
      // Outside the range (primed there), the bound is where the joint is: back toward the range only.
      const pMax = Math.max(l.positionMax, last), pMin = Math.min(l.positionMin, last);
      if (p > pMax) { p = pMax; f |= ClampFlag.POSITION; v = (p - last) / dt; }
      else if (p < pMin) { p = pMin; f |= ClampFlag.POSITION; v = (p - last) / dt; }
      outPos[j] = p;
      outVel[j] = v;
      flags[j] = f;
      if (f !== ClampFlag.NONE) clamped++;
    }
    return clamped;
  }

  /** Records a command as sent: the reference for the next limit(). */
  commit(position: ArrayLike<number>, velocity: ArrayLike<number>): void {
    for (let j = 0; j < this.jointCount; j++) {
      this.lastPosition[j] = position[j] as number;
      this.lastVelocity[j] = velocity[j] as number;
    }
    this.primedFlag = true;
  }
}
