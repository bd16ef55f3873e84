/**
 * Tilt and fall detection from the base orientation, with hysteresis so a robot hovering at a
 * threshold raises one event, not a stream.
 *   tilt      = angle between the base's z axis and world up, rad.
 *   tiltRate  = |ω − (ω·u) u|, rad/s, with u world up in the base frame: how fast the up direction
 *               turns in the base frame (rotation about the vertical does not count).
 * States: upright → warning when tilt ≥ warningRad; → fallen when tilt ≥ fallRad, or when tilt ≥
 * warningRad while tiltRate ≥ fallRateRadS (a topple under way is reported before it ends).
 * Back to upright (event 'tilt-cleared') only when tilt < warningRad − hysteresisRad.
 * Invariant: `fallen` implies `warning`. Allocation-free.
 */

export interface TiltFallOptions {
  /** rad: tilt at which 'tilt-warning' is raised. */
  warningRad: number;
  /** rad: tilt at which 'fall' is raised (≥ warningRad). */
  fallRad: number;
  /** rad/s: tilt rate that, beyond the warning tilt, counts as a fall. */
  fallRateRadS: number;
  /** rad: how far below warningRad the tilt must return to clear. */
  hysteresisRad: number;
}

export type TiltTransition = 'none' | 'warning' | 'fall' | 'cleared';

export class TiltFallDetector {
  tiltRad = 0;
  tiltRateRadS = 0;
  warning = false;
  fallen = false;

  constructor(private readonly o: TiltFallOptions) {
    if (!(o.fallRad >= o.warningRad && o.warningRad > o.hysteresisRad && o.hysteresisRad >= 0)) {
      throw new RangeError(`tilt thresholds need fallRad >= warningRad > hysteresisRad >= 0 (got ${o.fallRad}, ${o.warningRad}, ${o.hysteresisRad})`);
    }
  }

  /** Updates from q_wb and the base-frame rate ω (rad/s); returns the transition, at most one per
   * sample ('fall' may skip 'warning': a fall implies the warning). */
  update(q: ArrayLike<number>, wx: number, wy: number, wz: number): TiltTransition {
    const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
    const ux = 2 * (x * z - w * y), uy = 2 * (y * z + w * x), uz = w * w - x * x - y * y + z * z;
    const c = uz > 1 ? 1 : uz < -1 ? -1 : uz;
    const tilt = Math.acos(c);
    const d = wx * ux + wy * uy + wz * uz;
    const rate = Math.sqrt((wx - d * ux) ** 2 + (wy - d * uy) ** 2 + (wz - d * uz) ** 2);
    this.tiltRad = tilt;
    this.tiltRateRadS = rate;
    const o = this.o;
    if (!this.fallen && (tilt >= o.fallRad || (tilt >= o.warningRad && rate >= o.fallRateRadS))) {
      this.fallen = true;
      this.warning = true;
      return 'fall';
    }
    if (!this.warning && tilt >= o.warningRad) {
      this.warning = true;
      return 'warning';
    }
    if (this.warning && tilt < o.warningRad - o.hysteresisRad) {
      this.warning = false;
      this.fallen = false;
      return 'cleared';
    }
    return 'none';
  }
}
