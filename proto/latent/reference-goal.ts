/**
 * The reference latent space, "spinal.reference-goal/2": what a latent vector means between the
 * reference brain (cloud, encodes) and the reference decoder (edge, decodes). It lives in proto/
 * so that neither side imports the other. Joint limits come in as plain numbers (no hardware/).
 *
 * Layout, for a robot with J joints (Dz = 2J + 1):
 *   z[j]       = g_j = (q_goal_j - center_j) / halfRange_j   j < J   the goal, normalised to [-1, 1]
 *                                                                   by the joint range; decoders
 *                                                                   clip it to [-1, 1]
 *   z[J]       = ln(T / T_REF)                                       the motion's whole duration, T in
 *                                                                   control steps of the action
 *                                                                   chunk, T_REF = 16 steps; decoders
 *                                                                   clip it to [-LOG_TIME_CLIP,
 *                                                                   +LOG_TIME_CLIP] and use max(T, 1)
 *   z[J+1+j]   = (q_from_j - center_j) / halfRange_j              j < J   where the motion started
 *                                                                   (normalised and clipped like g)
 *
 * Meaning (the reference decoder's mean trajectory): the plan is the minimum-jerk path
 *   p_j(s) = from_j + (goal_j - from_j) phi(s),   phi(s) = 10 s^3 - 15 s^4 + 6 s^5, s in [0, 1]
 * that takes T steps. A decoder does not know when the plan was made; it reads how far along the
 * path each joint is from the joint's position q0_j: the progress u_j = phi^-1(clip((q0_j -
 * from_j) / (goal_j - from_j), 0, 1)) (u_j = 0 for a joint whose path is shorter than PATH_EPS of
 * its half range), and the action at chunk index h (h = 0 is one control step after now) is
 *   q_h,j = p_j(min(1, u_j + (h + 1) / T)) + (q0_j - p_j(u_j)) (1 - phi((h + 1) / Tc)),
 *   Tc = min(T, DEVIATION_STEPS)
 * the rest of the path from where the joint is, with any deviation from the path (a joint behind
 * its start, past its goal, or with no path) blended out within Tc steps. (Over the whole of a
 * long T, a robot's own servo error would be fed back to it nearly unchanged chunk after chunk, a
 * loop with no restoring force, and a held pose drifted.) So a plan decoded again
 * later, from a robot that followed it, continues the same path: consecutive chunks agree however
 * late the plan or the decode is. A plan whose start is its goal (from = goal: hold, or an older
 * brain that does not know where the motion started) is the approach q0 + (goal - q0) phi((h + 1)
 * / Tc). It reaches the goal with zero velocity and acceleration, then stays there. Every finite
 * latent decodes to a finite trajectory.
 */

export const REFERENCE_GOAL_LATENT_SPACE = 'spinal.reference-goal/2';
/** A joint whose path is shorter than this (normalised units) has no progress to read: u = 0. */
export const PATH_EPS = 1e-3;
/** The longest a deviation from the path is blended out over, in control steps (see the header). */
export const DEVIATION_STEPS = 8;
/** Points of the table phi^-1 is interpolated from (decoders bake the same table). */
export const MIN_JERK_INVERSE_POINTS = 16385;
/** Steps to goal encoded by a zero time term. */
export const REFERENCE_TIME_STEPS = 16;
/** Decoders clip the time term to [-LOG_TIME_CLIP, LOG_TIME_CLIP]. */
export const LOG_TIME_CLIP = 10;

export function referenceGoalLatentDim(jointCount: number): number {
  return 2 * jointCount + 1;
}

/** The per-joint affine map between joint positions and the normalised goal. */
export interface GoalRange {
  center: readonly number[];
  halfRange: readonly number[];
}

/** The goal range of joints with position limits [lower_j, upper_j]. */
export function goalRangeFromLimits(lower: readonly number[], upper: readonly number[]): GoalRange {
  if (lower.length !== upper.length) throw new RangeError('lower and upper limits differ in length');
  const center: number[] = [];
  const halfRange: number[] = [];
  lower.forEach((lo, j) => {
    const hi = upper[j] as number;
    if (!(hi > lo)) throw new RangeError(`joint ${j}: upper limit ${hi} not above lower ${lo}`);
    center.push((lo + hi) / 2);
    halfRange.push((hi - lo) / 2);
  });
  return { center, halfRange };
}

export interface ReferenceGoal {
  /** Goal joint positions (radians or metres, as the joints). */
  position: ArrayLike<number>;
  /** Control steps the whole motion from `from` to the goal takes; > 0. */
  stepsToGoal: number;
  /** Where the motion started; default the goal itself (a plan with no path: approach and hold). */
  from?: ArrayLike<number>;
}

export interface DecodedGoal {
  position: Float64Array;
  stepsToGoal: number;
  from: Float64Array;
  /** The clipped, normalised goal g in [-1, 1]^J. */
  normalized: Float64Array;
  /** The clipped, normalised start. */
  normalizedFrom: Float64Array;
}

/** Minimum-jerk profile phi(s) = 10 s^3 - 15 s^4 + 6 s^5 with s clipped to [0, 1]. */
export function minimumJerk(s: number): number {
  const c = Math.min(1, Math.max(0, s));
  return c * c * c * (10 + c * (-15 + 6 * c));
}

/**
 * phi^-1(f) for f in [0, 1] (clipped), interpolated linearly in a table of MIN_JERK_INVERSE_POINTS
 * values of phi^-1 at f = i / (N - 1) (each found by bisection in float64). Decoders evaluate the
 * same table, so this is their inverse exactly (up to float32). Interpolation error in s: below
 * 0.012 in the table's first and last interval (s < 0.063, s > 0.937), where phi is flat and the
 * error moves a joint by less than |goal - from| / (N - 1); below 5e-5 elsewhere.
 */
export function minimumJerkInverse(f: number): number {
  const t = inverseTable();
  const x = Math.min(1, Math.max(0, f)) * (MIN_JERK_INVERSE_POINTS - 1);
  const i = Math.min(MIN_JERK_INVERSE_POINTS - 2, Math.floor(x));
  const w = x - i;
  return (t[i] as number) * (1 - w) + (t[i + 1] as number) * w;
}

let table: Float64Array | null = null;
/** phi^-1 at f = i / (N - 1), i = 0 .. N - 1. */
export function inverseTable(): Float64Array {
  if (table !== null) return table;
  const N = MIN_JERK_INVERSE_POINTS;
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const f = i / (N - 1);
    let lo = 0, hi = 1;
    for (let k = 0; k < 60; k++) {
      const m = (lo + hi) / 2;
      if (minimumJerk(m) < f) lo = m; else hi = m;
    }
    t[i] = (lo + hi) / 2;
  }
  t[0] = 0;
  t[N - 1] = 1;
  return (table = t);
}

/** The progress u along a path from `from` to `goal` of a joint at `q` (all in one unit; `eps`
 * the shortest path that counts): phi^-1 of the clipped fraction of the way done. */
export function pathProgress(q: number, from: number, goal: number, eps: number): number {
  const d = goal - from;
  if (Math.abs(d) < eps) return 0;
  return minimumJerkInverse((q - from) / d);
}

/** The mean action at chunk index h (see the header) for one joint, in the joints' own unit. */
export function pathAction(q0: number, from: number, goal: number, stepsToGoal: number, h: number, eps: number): number {
  const T = Math.max(1, stepsToGoal);
  const u = pathProgress(q0, from, goal, eps);
  const d = goal - from;
  const along = from + d * minimumJerk(Math.min(1, u + (h + 1) / T));
  const deviation = q0 - (from + d * minimumJerk(u));
  return along + deviation * (1 - minimumJerk((h + 1) / Math.min(T, DEVIATION_STEPS)));
}

/** phi((h + 1) / T): the fraction of the way to the goal at chunk index h. */
export function approachFraction(h: number, stepsToGoal: number): number {
  return minimumJerk((h + 1) / Math.max(1, stepsToGoal));
}

export function encodeGoal(goal: ReferenceGoal, range: GoalRange, out?: Float32Array): Float32Array {
  const J = range.center.length;
  if (goal.position.length !== J) throw new RangeError(`goal has ${goal.position.length} joints, range ${J}`);
  if (!(goal.stepsToGoal > 0) || !Number.isFinite(goal.stepsToGoal)) {
    throw new RangeError(`stepsToGoal must be finite and > 0, got ${goal.stepsToGoal}`);
  }
  const from = goal.from ?? goal.position;
  if (from.length !== J) throw new RangeError(`start has ${from.length} joints, range ${J}`);
  const z = out ?? new Float32Array(2 * J + 1);
  if (z.length !== 2 * J + 1) throw new RangeError(`latent buffer must have ${2 * J + 1} entries`);
  for (let j = 0; j < J; j++) {
    const c = range.center[j] as number, r = range.halfRange[j] as number;
    z[j] = ((goal.position[j] as number) - c) / r;
    z[J + 1 + j] = ((from[j] as number) - c) / r;
  }
  z[J] = Math.log(goal.stepsToGoal / REFERENCE_TIME_STEPS);
  return z;
}

/** The inverse of encodeGoal, with the decoder's clipping (so it is total on finite latents). */
export function decodeGoal(latent: ArrayLike<number>, range: GoalRange): DecodedGoal {
  const J = range.center.length;
  if (latent.length !== 2 * J + 1) throw new RangeError(`latent has ${latent.length} entries, expected ${2 * J + 1}`);
  const normalized = new Float64Array(J), normalizedFrom = new Float64Array(J);
  const position = new Float64Array(J), from = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const c = range.center[j] as number, r = range.halfRange[j] as number;
    const g = Math.min(1, Math.max(-1, latent[j] as number));
    const f = Math.min(1, Math.max(-1, latent[J + 1 + j] as number));
    normalized[j] = g;
    normalizedFrom[j] = f;
    position[j] = c + r * g;
    from[j] = c + r * f;
  }
  const lt = Math.min(LOG_TIME_CLIP, Math.max(-LOG_TIME_CLIP, latent[J] as number));
  return { position, from, normalized, normalizedFrom, stepsToGoal: Math.max(1, REFERENCE_TIME_STEPS * Math.exp(lt)) };
}
