/** What the reference brain knows of a robot: its joints and named poses, from the Hello. */
import type { Hello } from '../../../proto/brain/index.js';

export interface RobotJoints {
  names: readonly string[];
  lower: readonly number[];
  upper: readonly number[];
  velocityMax: readonly number[];
  /** rad/s²; 0 where the robot did not announce it. */
  accelerationMax: readonly number[];
  poses: ReadonlyMap<string, readonly number[]>;
}

export function robotJointsFromHello(h: Hello): RobotJoints {
  return {
    names: h.joints.map((j) => j.name),
    lower: h.joints.map((j) => j.positionMin),
    upper: h.joints.map((j) => j.positionMax),
    velocityMax: h.joints.map((j) => j.velocityMax),
    accelerationMax: h.joints.map((j) => j.accelerationMax ?? 0),
    poses: new Map(Object.entries(h.poses).map(([k, p]) => [k.toLowerCase(), p.positions])),
  };
}

/** Fraction of a joint's velocity limit a reference motion may use at its peak. */
export const PEAK_VELOCITY_FRACTION = 0.8;
/** Fraction of a joint's acceleration limit a reference motion may use at its peak: the edge
 * samples the plan at its control rate between 20 ms rows, which adds a little. */
export const PEAK_ACCELERATION_FRACTION = 0.5;
/** A minimum-jerk move's peak velocity is 1.875 times its mean velocity. */
const MIN_JERK_PEAK_RATIO = 1.875;
/** Its peak acceleration is 10 / sqrt(3) D / T^2 for a distance D in time T. */
const MIN_JERK_PEAK_ACCEL = 10 / Math.sqrt(3);
export const MIN_MOTION_S = 0.1;

/** The shortest minimum-jerk move from `from` to `to` that keeps every joint under
 * PEAK_VELOCITY_FRACTION of its velocity limit and, where announced, under
 * PEAK_ACCELERATION_FRACTION of its acceleration limit
 * (the edge clamps a faster plan, which then lags), in seconds (at least MIN_MOTION_S). */
export function motionTimeS(robot: RobotJoints, from: ArrayLike<number>, to: ArrayLike<number>): number {
  let t = MIN_MOTION_S;
  for (let j = 0; j < robot.names.length; j++) {
    const v = (robot.velocityMax[j] as number) > 0 ? (robot.velocityMax[j] as number) : 1;
    const d = Math.abs((to[j] as number) - (from[j] as number));
    t = Math.max(t, (MIN_JERK_PEAK_RATIO * d) / (PEAK_VELOCITY_FRACTION * v));
    const a = robot.accelerationMax[j] as number;
    if (a > 0) t = Math.max(t, Math.sqrt((MIN_JERK_PEAK_ACCEL * d) / (PEAK_ACCELERATION_FRACTION * a)));
  }
  return t;
}
