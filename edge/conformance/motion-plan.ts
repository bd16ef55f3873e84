/**
 * The only motion `spinal conformance` makes, planned from the profile and the pose the MCU
 * reports: a temporary CONFIG narrows each joint to a small window around where it is
 * (±WINDOW_RAD, at most a tenth of its range) with a slow speed limit, and each joint is commanded
 * to a target three windows away, always inside the profile's own limits. A conforming MCU clamps
 * the target to the window edge, so the joint moves at most WINDOW_RAD; a firmware that does not
 * clamp moves it further, but never outside the profile's limits.
 */
import { countsToRad, radPerSecToCps, radToCounts, type RobotProfile } from '../../hardware/index.js';
import type { ConfigMsg } from '../../proto/wire/index.js';

/** Half-width of each joint's temporary window, rad. */
export const WINDOW_RAD = 0.05;
/** Speed limit of the temporary CONFIG, rad/s. */
export const SLOW_RAD_S = 0.2;
/** How far beyond the window the target lies, in windows. */
export const BEYOND = 3;
export const MOTION_MS = 800;

export interface ClampPlan {
  config: ConfigMsg;
  /** Present counts, and targets (counts) the MCU must clamp. */
  start: number[];
  target: number[];
  windowCounts: number[];
  /** Allowed overshoot past a window edge: a servo settling onto the edge, counts. */
  toleranceCounts: number[];
  windowRad: number;
  beyond: number;
  durationMs: number;
}

function windowRad(profile: RobotProfile, j: number): number {
  const l = (profile.joints[j] as RobotProfile['joints'][number]).limits;
  return Math.min(WINDOW_RAD, 0.1 * (l.positionMax - l.positionMin));
}

/** What the tool will do to the robot, for the operator to read before confirming. */
export function describeMotion(profile: RobotProfile): string[] {
  const joints = profile.joints.map((jp, j) => `${jp.name} ±${windowRad(profile, j).toFixed(3)} rad`).join(', ');
  return [
    `enable the drives in HOLD (holding where the joints are) several times, and remove power by e-stops of categories 0, 1 and 2`,
    `move every joint at most ${WINDOW_RAD} rad from where it is, at most ${SLOW_RAD_S} rad/s, inside the profile's limits: ${joints}`,
    `let the watchdog trip once (a controlled stop, category 1)`,
  ];
}

/** The plan for the pose in `counts`, or why there is none. `base` is the profile's CONFIG. */
export function planClampMotion(profile: RobotProfile, base: ConfigMsg, counts: ArrayLike<number>): ClampPlan | string {
  const n = profile.joints.length;
  const config: ConfigMsg = {
    ...base,
    posMin: Int32Array.from(base.posMin), posMax: Int32Array.from(base.posMax),
    velMax: Float32Array.from(base.velMax), currentMax: Float32Array.from(base.currentMax),
  };
  const start: number[] = [], target: number[] = [], windowCounts: number[] = [], toleranceCounts: number[] = [];
  let tested = 0;
  for (let j = 0; j < n; j++) {
    const joint = profile.joints[j] as RobotProfile['joints'][number];
    const c = counts[j] as number;
    const q = countsToRad(joint, c);
    const w = windowRad(profile, j);
    const a = radToCounts(joint, q - w), b = radToCounts(joint, q + w);
    start.push(c);
    config.velMax[j] = Math.min(config.velMax[j] as number, Math.abs(radPerSecToCps(joint, SLOW_RAD_S)));
    const lim = joint.limits;
    const up = lim.positionMax - q, down = q - lim.positionMin;
    const dir = up >= down ? 1 : -1;
    const travel = Math.min(BEYOND * w, (dir > 0 ? up : down) - 0.2 * w);
    const lo = Math.min(a, b), hi = Math.max(a, b);
    // A window across a single-turn encoder's wrap has no ordered pair: that joint only holds.
    if (q < lim.positionMin || q > lim.positionMax || travel < 1.5 * w || hi - lo > 0.5 * Math.abs(radToCounts(joint, 2 * Math.PI) - radToCounts(joint, 0)) + 1) {
      target.push(c);
      windowCounts.push(Math.max(1, hi - lo));
      toleranceCounts.push(Math.ceil(0.25 * (hi - lo)) + 2);
      config.posMin[j] = Math.min(lo, c); config.posMax[j] = Math.max(hi, c);
      continue;
    }
    config.posMin[j] = lo; config.posMax[j] = hi;
    target.push(radToCounts(joint, q + dir * travel));
    windowCounts.push(hi - c);
    toleranceCounts.push(Math.ceil(0.25 * (hi - c)) + 2);
    tested++;
  }
  if (tested === 0) return 'no joint has room inside its limits for the clamping motion (every joint is within 0.15 rad of a limit)';
  return { config, start, target, windowCounts, toleranceCounts, windowRad: WINDOW_RAD, beyond: BEYOND, durationMs: MOTION_MS };
}
