/**
 * The reference decoder's distribution in closed form (see MATH.md): in normalised action space
 * the chunk x in R^{H x A} is Gaussian,
 *   x ~ N(mu(latent, state), Sigma(latent, state)),   Sigma = K (x) diag(gamma^2 sigma^2),
 * with mu the rest of the minimum-jerk path of "spinal.reference-goal/2" from where each joint is,
 * K a smooth temporal kernel whose envelope vanishes at the chunk's start, and gamma_j in [0, 1]
 * the joint's remaining travel relative to `travelScale`: no spread at a reached goal (a robot told
 * to hold a pose commands that pose), full spread only where the plan still has far to go.
 * K = Q diag(kappa) Q^T is diagonalised once here; the ONNX graph bakes Q and
 * Lambda[i][j] = kappa_i sigma_j^2 as initializers and scales Lambda by gamma_j^2 per batch row,
 * which keeps Q (x) I the eigenbasis of Sigma, so the MMSE denoiser stays exact.
 *
 * Index convention everywhere: chunk element (h, j) sits at h * A + j (row-major [H, A]).
 */
import {
  LOG_TIME_CLIP, PATH_EPS, REFERENCE_TIME_STEPS, pathAction, type GoalRange,
} from '../../../proto/latent/reference-goal.js';
import { resolveCommon, type CommonDecoderOptions, type ResolvedCommon } from './decoder-options.js';
import { symmetricEigen } from './linalg.js';
import { alphasCumprod } from '../noise-schedule.js';

export interface ReferenceDecoderOptions extends CommonDecoderOptions {
  /** The joint range the latent goal is normalised by; default actionMean +- actionStd. */
  goalRange?: GoalRange;
  /** Std of the chunk about its mean in normalised action units, one or per dimension (default 0.05). */
  sigma?: number | readonly number[];
  /** Correlation length of the squared-exponential temporal kernel, in steps (default max(2, H / 6)). */
  lengthScale?: number;
  /** Envelope: the std at chunk index h is scaled by 1 - exp(-((h + 1) / rampSteps)^2) (default
   * max(1, H / 4)), so the first actions stay at the current state, in position and in slope. */
  rampSteps?: number;
  /** Remaining travel (goal - current position, in units of the joint's half range) at which a
   * joint has its full sigma; below it the std shrinks in proportion, to 0 at the goal (default 0.25). */
  travelScale?: number;
  /** Relative diagonal jitter that keeps K positive definite (default 1e-4). */
  jitter?: number;
}

export interface ReferenceModel {
  common: ResolvedCommon;
  /** Goal affine map into normalised action space: xg_j = g_j * goalScale_j + goalOffset_j. */
  goalScale: Float64Array;
  goalOffset: Float64Array;
  /** Current position in normalised action space: c_j = s_j * stateScale_j + stateOffset_j (s = state[j], j < A). */
  stateScale: Float64Array;
  stateOffset: Float64Array;
  /** H x H temporal kernel K (row-major), its eigenvalues kappa (descending) and eigenvectors Q (columns). */
  kernel: Float64Array;
  kappa: Float64Array;
  q: Float64Array;
  /** sigma_j^2, per action dimension. */
  dimVariance: Float64Array;
  /** Lambda[i * A + j] = kappa_i * sigma_j^2: the eigenvalues of Sigma in the basis Q (x) I. */
  lambda: Float64Array;
  /** abar_k for epsilon models, else null. */
  alphaBar: Float64Array | null;
  /** Per joint, normalised action units: the travel at which gamma = 1, and the shortest path with
   * a progress to read (PATH_EPS of the half range). */
  travelUnit: Float64Array;
  pathEps: Float64Array;
}

export function referenceModel(opts: ReferenceDecoderOptions): ReferenceModel {
  const c = resolveCommon(opts);
  const { actionDim: A, stateDim: S, horizon: H } = c;
  if (S < A) throw new RangeError(`the reference decoder reads joint positions from state[0..A): stateDim ${S} < actionDim ${A}`);
  const range = opts.goalRange ?? { center: [...c.actionMean], halfRange: [...c.actionStd] };
  if (range.center.length !== A || range.halfRange.length !== A) throw new RangeError(`goalRange must have ${A} joints`);
  const goalScale = new Float64Array(A), goalOffset = new Float64Array(A);
  const stateScale = new Float64Array(A), stateOffset = new Float64Array(A);
  for (let j = 0; j < A; j++) {
    const am = c.actionMean[j] as number, as = c.actionStd[j] as number;
    goalScale[j] = (range.halfRange[j] as number) / as;
    goalOffset[j] = ((range.center[j] as number) - am) / as;
    stateScale[j] = (c.stateStd[j] as number) / as;
    stateOffset[j] = ((c.stateMean[j] as number) - am) / as;
  }
  const sig = opts.sigma ?? 0.05;
  const sigmas = typeof sig === 'number' ? new Array<number>(A).fill(sig) : [...sig];
  if (sigmas.length !== A || sigmas.some((s) => !(s > 0))) throw new RangeError(`sigma must be > 0, one or ${A} values`);
  const dimVariance = Float64Array.from(sigmas, (s) => s * s);

  const ell = opts.lengthScale ?? Math.max(2, H / 6);
  const ramp = opts.rampSteps ?? Math.max(1, H / 4);
  const jitter = opts.jitter ?? 1e-4;
  const travelScale = opts.travelScale ?? 0.25;
  if (!(travelScale > 0)) throw new RangeError(`travelScale must be > 0, got ${travelScale}`);
  const travelUnit = Float64Array.from(goalScale, (s) => travelScale * s);
  const pathEps = Float64Array.from(goalScale, (s) => PATH_EPS * s);
  const env = Float64Array.from({ length: H }, (_, h) => 1 - Math.exp(-(((h + 1) / ramp) ** 2)));
  const kernel = new Float64Array(H * H);
  for (let a = 0; a < H; a++) {
    for (let b = 0; b < H; b++) {
      const se = Math.exp(-((a - b) ** 2) / (2 * ell * ell));
      kernel[a * H + b] = (env[a] as number) * (env[b] as number) * se + (a === b ? jitter : 0);
    }
  }
  const { values: kappa, vectors: q } = symmetricEigen(kernel, H);
  const lambda = new Float64Array(H * A);
  for (let i = 0; i < H; i++) for (let j = 0; j < A; j++) lambda[i * A + j] = (kappa[i] as number) * (dimVariance[j] as number);
  const alphaBar = c.parameterization === 'epsilon'
    ? alphasCumprod({ schedule: c.betaSchedule, trainSteps: c.trainSteps, betaStart: c.betaStart, betaEnd: c.betaEnd }) : null;
  return { common: c, goalScale, goalOffset, stateScale, stateOffset, kernel, kappa, q, dimVariance, lambda, alphaBar, travelUnit, pathEps };
}

/** Steps to goal decoded from the latent's time term, with the decoder's clipping. */
export function stepsToGoal(logTime: number): number {
  return Math.max(1, REFERENCE_TIME_STEPS * Math.exp(Math.min(LOG_TIME_CLIP, Math.max(-LOG_TIME_CLIP, logTime))));
}

interface Decoded { goal: Float64Array; from: Float64Array; cur: Float64Array; T: number }

/** Goal, start and current position in normalised action space, and T, as the graph computes them. */
function decodeInputs(m: ReferenceModel, latent: ArrayLike<number>, state: ArrayLike<number>): Decoded {
  const A = m.common.actionDim;
  const goal = new Float64Array(A), from = new Float64Array(A), cur = new Float64Array(A);
  for (let j = 0; j < A; j++) {
    const clip = (v: number): number => Math.min(1, Math.max(-1, v));
    goal[j] = clip(latent[j] as number) * (m.goalScale[j] as number) + (m.goalOffset[j] as number);
    from[j] = clip(latent[A + 1 + j] as number) * (m.goalScale[j] as number) + (m.goalOffset[j] as number);
    cur[j] = (state[j] as number) * (m.stateScale[j] as number) + (m.stateOffset[j] as number);
  }
  return { goal, from, cur, T: stepsToGoal(latent[A] as number) };
}

/** mu(latent, state): the mean chunk, [H, A] row-major, normalised action space. */
export function referenceMean(m: ReferenceModel, latent: ArrayLike<number>, state: ArrayLike<number>): Float64Array {
  const { actionDim: A, horizon: H } = m.common;
  const d = decodeInputs(m, latent, state);
  const mu = new Float64Array(H * A);
  for (let j = 0; j < A; j++) {
    for (let h = 0; h < H; h++) {
      mu[h * A + j] = pathAction(d.cur[j] as number, d.from[j] as number, d.goal[j] as number, d.T, h, m.pathEps[j] as number);
    }
  }
  return mu;
}

/** gamma(latent, state) per joint: min(1, |goal - current| / travelUnit). */
export function referenceGain(m: ReferenceModel, latent: ArrayLike<number>, state: ArrayLike<number>): Float64Array {
  const d = decodeInputs(m, latent, state);
  return Float64Array.from(d.goal, (g, j) => Math.min(1, Math.abs(g - (d.cur[j] as number)) / (m.travelUnit[j] as number)));
}

export interface ReferenceDistribution {
  mean: Float64Array;
  /** Dense covariance, (H A) x (H A) row-major: Cov[(h, j), (h', j')] = K[h][h'] gamma_j^2 sigma_j^2 delta_jj'. */
  cov: Float64Array;
  /** gamma_j, per joint. */
  gain: Float64Array;
  /** Its factors: Sigma = K (x) diag(gamma^2 dimVariance), K = Q diag(kappa) Q^T. */
  kernel: Float64Array;
  kappa: Float64Array;
  q: Float64Array;
  dimVariance: Float64Array;
}

export function referenceDistribution(
  latent: ArrayLike<number>, state: ArrayLike<number>, opts: ReferenceDecoderOptions | ReferenceModel,
): ReferenceDistribution {
  const m = 'common' in opts ? opts : referenceModel(opts);
  const { actionDim: A, horizon: H } = m.common;
  const n = H * A;
  const gain = referenceGain(m, latent, state);
  const cov = new Float64Array(n * n);
  for (let a = 0; a < H; a++) {
    for (let b = 0; b < H; b++) {
      for (let j = 0; j < A; j++) cov[(a * A + j) * n + b * A + j] = (m.kernel[a * H + b] as number) * (m.dimVariance[j] as number) * (gain[j] as number) ** 2;
    }
  }
  return { mean: referenceMean(m, latent, state), cov, gain, kernel: m.kernel, kappa: m.kappa, q: m.q, dimVariance: m.dimVariance };
}

/**
 * The exact MMSE model output in TS, the same algebra as the graph (float64):
 *   out = b mu + Q (S(t) o Q^T (x - a mu)),  with per-eigenvalue L = Lambda_ij gamma_j^2
 *   epsilon  (t = step index k):  a = sqrt(abar_k), b = 0, S = sqrt(1 - abar_k) / (abar_k L + 1 - abar_k)
 *   velocity (t = flow time):     a = t,            b = 1, S = (t L - (1 - t)) / (t^2 L + (1 - t)^2)
 */
export function referenceDenoise(m: ReferenceModel, mu: Float64Array, gain: ArrayLike<number>, x: ArrayLike<number>, t: number): Float64Array {
  const { actionDim: A, horizon: H } = m.common;
  const { a, b, scale } = coefficients(m, t);
  const r = new Float64Array(H * A);
  for (let i = 0; i < H * A; i++) r[i] = (x[i] as number) - a * (mu[i] as number);
  const y = new Float64Array(H * A); // y = S o Q^T r
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < A; j++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += (m.q[h * H + i] as number) * (r[h * A + j] as number);
      y[i * A + j] = s * scale((m.lambda[i * A + j] as number) * (gain[j] as number) ** 2);
    }
  }
  const out = new Float64Array(H * A);
  for (let h = 0; h < H; h++) {
    for (let j = 0; j < A; j++) {
      let s = 0;
      for (let i = 0; i < H; i++) s += (m.q[h * H + i] as number) * (y[i * A + j] as number);
      out[h * A + j] = b * (mu[h * A + j] as number) + s;
    }
  }
  return out;
}

function coefficients(m: ReferenceModel, t: number): { a: number; b: number; scale: (lambda: number) => number } {
  if (m.alphaBar !== null) {
    const k = Math.min(m.alphaBar.length - 1, Math.max(0, Math.round(t)));
    const ab = m.alphaBar[k] as number;
    return { a: Math.sqrt(ab), b: 0, scale: (l) => Math.sqrt(1 - ab) / (ab * l + 1 - ab) };
  }
  const tt = Math.min(1, Math.max(0, t));
  return { a: tt, b: 1, scale: (l) => (tt * l - (1 - tt)) / (tt * tt * l + (1 - tt) ** 2) };
}
