/**
 * The reference latent space, "spinal.reference-goal/1": what a latent vector means between the
 * reference brain (cloud, encodes) and the reference decoder (edge, decodes). It lives in proto/
 * so that neither side imports the other. Joint limits come in as plain numbers (no hardware/).
 *
 * Layout, for a robot with J joints (Dz = J + 1):
 *   z[j] = g_j = (q_goal_j - center_j) / halfRange_j   j < J   the goal, normalised to [-1, 1]
 *                                                              by the joint range; decoders clip
 *                                                              it to [-1, 1]
 *   z[J] = ln(T / T_REF)                                        the time to goal, T in control
 *                                                              steps of the action chunk,
 *                                                              T_REF = 16 steps; decoders clip it
 *                                                              to [-LOG_TIME_CLIP, +LOG_TIME_CLIP]
 *                                                              and use max(T, 1)
 *
 * Meaning (the reference decoder's mean trajectory): from the current joint position q0, the
 * action at chunk index h (h = 0 is one control step after now) is
 *   q_h = q0 + (q_goal - q0) * phi((h + 1) / T),   phi(s) = 10 s^3 - 15 s^4 + 6 s^5 on [0, 1]
 * with s clipped to [0, 1]: a minimum-jerk approach that reaches the goal at step T with zero
 * velocity and acceleration, then stays there. Every finite latent decodes to a finite goal.
 */

export const REFERENCE_GOAL_LATENT_SPACE = 'spinal.reference-goal/1';
/** Steps to goal encoded by a zero time term. */
export const REFERENCE_TIME_STEPS = 16;
/** Decoders clip the time term to [-LOG_TIME_CLIP, LOG_TIME_CLIP]. */
export const LOG_TIME_CLIP = 10;

export function referenceGoalLatentDim(jointCount: number): number {
  return jointCount + 1;
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
  /** Control steps until the goal is reached; > 0. */
  stepsToGoal: number;
}

export interface DecodedGoal extends ReferenceGoal {
  /** The clipped, normalised goal g in [-1, 1]^J. */
  normalized: Float64Array;
}

/** Minimum-jerk profile phi(s) = 10 s^3 - 15 s^4 + 6 s^5 with s clipped to [0, 1]. */
export function minimumJerk(s: number): number {
  const c = Math.min(1, Math.max(0, s));
  return c * c * c * (10 + c * (-15 + 6 * c));
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
  const z = out ?? new Float32Array(J + 1);
  if (z.length !== J + 1) throw new RangeError(`latent buffer must have ${J + 1} entries`);
  for (let j = 0; j < J; j++) {
    z[j] = ((goal.position[j] as number) - (range.center[j] as number)) / (range.halfRange[j] as number);
  }
  z[J] = Math.log(goal.stepsToGoal / REFERENCE_TIME_STEPS);
  return z;
}

/** The inverse of encodeGoal, with the decoder's clipping (so it is total on finite latents). */
export function decodeGoal(latent: ArrayLike<number>, range: GoalRange): DecodedGoal {
  const J = range.center.length;
  if (latent.length !== J + 1) throw new RangeError(`latent has ${latent.length} entries, expected ${J + 1}`);
  const normalized = new Float64Array(J);
  const position = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    const g = Math.min(1, Math.max(-1, latent[j] as number));
    normalized[j] = g;
    position[j] = (range.center[j] as number) + (range.halfRange[j] as number) * g;
  }
  const lt = Math.min(LOG_TIME_CLIP, Math.max(-LOG_TIME_CLIP, latent[J] as number));
  return { position, normalized, stepsToGoal: Math.max(1, REFERENCE_TIME_STEPS * Math.exp(lt)) };
}
