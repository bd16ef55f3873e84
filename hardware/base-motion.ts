/**
 * Motion of the robot's base, for the IMU: a commanded body-frame angular velocity integrated
 * into the orientation, and the scripted fall (a tip of 90° over FALL_DURATION_S, then an impact).
 * The base has no translation: the accelerometer sees gravity plus the impact only.
 * Allocation-free after construction.
 */
import { quatIntegrateBodyRate, quatMultiply } from './quaternion.js';

/** m/s², standard gravity. */
export const GRAVITY = 9.80665;
/** s: the fall from upright to lying on the side. */
export const FALL_DURATION_S = 0.4;
/** s: the impact's half-sine pulse on the accelerometer. */
export const IMPACT_DURATION_S = 0.03;
/** m/s²: peak of the impact pulse (8 g), along world up. */
export const IMPACT_PEAK = 8 * GRAVITY;

export class BaseMotion {
  /** w,x,y,z: base → world. */
  readonly quat = new Float64Array([1, 0, 0, 0]);
  /** rad/s, base frame: the present truth (the fall's rate while falling). */
  readonly angVel = new Float64Array(3);
  private readonly commandedRate = new Float64Array(3);
  private readonly fallStartQuat = new Float64Array(4);
  private readonly fallStep = new Float64Array(4);
  /** Invariant: fallStartS is NaN when no fall is under way. */
  private fallStartS = Number.NaN;
  private fallAxis: 0 | 1 = 0;
  /** Time the last fall hit the ground; NaN if none did. */
  private impactS = Number.NaN;

  setAngularVelocity(x: number, y: number, z: number): void {
    this.commandedRate[0] = x;
    this.commandedRate[1] = y;
    this.commandedRate[2] = z;
  }

  get falling(): boolean {
    return !Number.isNaN(this.fallStartS);
  }

  startFall(nowS: number, axis: 'x' | 'y'): void {
    this.fallStartS = nowS;
    this.fallAxis = axis === 'x' ? 0 : 1;
    this.fallStartQuat.set(this.quat);
  }

  /** Advances from t - h to t (seconds). */
  step(t: number, h: number): void {
    if (this.falling) {
      // Toppling from rest under roughly constant angular acceleration: θ = (π/2)(τ/T)².
      const tau = Math.min(t - this.fallStartS, FALL_DURATION_S);
      const theta = (Math.PI / 2) * (tau / FALL_DURATION_S) ** 2;
      const rate = (Math.PI * tau) / FALL_DURATION_S ** 2;
      const s = Math.sin(theta / 2);
      this.fallStep[0] = Math.cos(theta / 2);
      this.fallStep[1] = this.fallAxis === 0 ? s : 0;
      this.fallStep[2] = this.fallAxis === 1 ? s : 0;
      this.fallStep[3] = 0;
      quatMultiply(this.quat, this.fallStartQuat, this.fallStep);
      this.angVel.fill(0);
      this.angVel[this.fallAxis] = rate;
      if (tau >= FALL_DURATION_S) {
        // On the ground: the body lies still, whatever rate had been commanded before.
        this.fallStartS = Number.NaN;
        this.impactS = t;
        this.angVel.fill(0);
        this.commandedRate.fill(0);
      }
      return;
    }
    this.angVel.set(this.commandedRate);
    quatIntegrateBodyRate(this.quat, this.angVel[0] as number, this.angVel[1] as number, this.angVel[2] as number, h);
  }

  /** m/s² along world up from the impact at time t (a half-sine pulse), else 0. */
  impactAccel(t: number): number {
    const since = t - this.impactS;
    if (!(since >= 0 && since < IMPACT_DURATION_S)) return 0;
    return IMPACT_PEAK * Math.sin((Math.PI * since) / IMPACT_DURATION_S);
  }
}
