/**
 * The reference decoder as an ONNX graph: the exact MMSE denoiser of the Gaussian of
 * reference-distribution.ts, for the epsilon or the velocity parameterisation (MATH.md).
 *
 * Graph, per batch row (B symbolic):
 *   xg  = clip(latent[:, :A], -1, 1) * goalScale + goalOffset                 [B, A]
 *   x0  = clip(latent[:, A+1:], -1, 1) * goalScale + goalOffset               [B, A]  path start
 *   c   = state[:, :A] * stateScale + stateOffset                             [B, A]
 *   T   = max(1, T_REF exp(clip(latent[:, A], -10, 10)))                      [B, 1]
 *   u   = phi^-1(clip((c - x0) / (xg - x0), 0, 1)), 0 where |xg - x0| < eps    [B, A]  (table)
 *   mu  = x0 + (xg - x0) phi(min(1, u + (h+1)/T))
 *         + (c - x0 - (xg - x0) phi(u)) (1 - phi((h+1)/min(T, Tdev)))          [B, H, A]
 *   g2  = min(1, |xg - c| / travelUnit)^2                                     [B, 1, A]
 *   out = b mu + Q (S(t, Lambda g2) o (Q^T (x_t - a(t) mu)))                  [B, H, A]
 * where Q^T acts on the time axis (MatMul of [H, H] with [B, H, A]) and S, a, b as in
 * referenceDenoise. The latent/state part is emitted once (`prepare`), the rest per step.
 */
import type { GraphBuilder } from '../../../proto/onnx/index.js';
import { attr } from '../../../proto/onnx/index.js';
import {
  DEVIATION_STEPS, LOG_TIME_CLIP, MIN_JERK_INVERSE_POINTS, REFERENCE_GOAL_LATENT_SPACE, REFERENCE_TIME_STEPS, inverseTable, referenceGoalLatentDim,
} from '../../../proto/latent/reference-goal.js';
import { denoiserSpec } from './decoder-options.js';
import { buildDenoiserModel, type DenoiserEmitter, type StepEmitter } from './denoiser-emitter.js';
import { referenceModel, type ReferenceDecoderOptions, type ReferenceModel } from './reference-distribution.js';

const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a as ArrayLike<number>);

function transpose(q: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) t[c * n + r] = q[r * n + c] as number;
  return t;
}

export function referenceEmitter(opts: ReferenceDecoderOptions): DenoiserEmitter & { model: ReferenceModel } {
  const m = referenceModel(opts);
  const c = m.common;
  const A = c.actionDim, H = c.horizon;
  const name = opts.name ?? `reference-${c.parameterization}-a${A}-h${H}`;
  const spec = denoiserSpec(c, { name, latentDim: referenceGoalLatentDim(A), latentSpace: REFERENCE_GOAL_LATENT_SPACE });

  const prepare = (g: GraphBuilder, latent: string, state: string): StepEmitter => {
    const scalar = (v: number): string => g.constFloat([v], []);
    const slice = (x: string, from: number, to: number): string =>
      g.op('Slice', [x, g.constInt64([from]), g.constInt64([to]), g.constInt64([1])]);
    const affine = (z: string): string => g.op('Add', [
      g.op('Mul', [g.op('Clip', [z, scalar(-1), scalar(1)]), g.constFloat(f32(m.goalScale))]),
      g.constFloat(f32(m.goalOffset)),
    ]);
    const goal = affine(slice(latent, 0, A));
    const from = affine(slice(latent, A + 1, 2 * A + 1));
    const pos = c.stateDim === A ? state : slice(state, 0, A);
    const cur = g.op('Add', [g.op('Mul', [pos, g.constFloat(f32(m.stateScale))]), g.constFloat(f32(m.stateOffset))]);
    const logT = g.op('Clip', [slice(latent, A, A + 1), scalar(-LOG_TIME_CLIP), scalar(LOG_TIME_CLIP)]);
    const T = g.op('Max', [g.op('Mul', [g.op('Exp', [logT]), scalar(REFERENCE_TIME_STEPS)]), scalar(1)]);
    const phiOf = (v: string): string => { // v already in [0, 1]
      const v3 = g.op('Mul', [g.op('Mul', [v, v]), v]);
      return g.op('Mul', [v3, g.op('Add', [g.op('Mul', [v, g.op('Add', [g.op('Mul', [v, scalar(6)]), scalar(-15)])]), scalar(10)])]);
    };
    const unsq = (v: string, axis: number): string => g.op('Unsqueeze', [v, g.constInt64([axis])]);
    // Progress along the path, per joint: phi^-1 of the clipped fraction done, from the table.
    const d = g.op('Sub', [goal, from]); // [B, A]
    const noPath = g.op('Less', [g.op('Abs', [d]), g.constFloat(f32(m.pathEps))]);
    const frac = g.op('Where', [noPath, scalar(0), g.op('Clip', [g.op('Div', [g.op('Sub', [cur, from]), g.op('Where', [noPath, scalar(1), d])]), scalar(0), scalar(1)])]);
    const N = MIN_JERK_INVERSE_POINTS;
    const xi = g.op('Mul', [frac, scalar(N - 1)]);
    const i0 = g.op('Min', [g.op('Floor', [xi]), scalar(N - 2)]);
    const w = g.op('Sub', [xi, i0]);
    const idx = g.op('Cast', [i0], { to: attr.int(7) });
    const table = g.constFloat(f32(inverseTable()));
    const lo = g.op('Gather', [table, idx]);
    const hi = g.op('Gather', [table, g.op('Add', [idx, g.constInt64([1])])]);
    const u = g.op('Add', [lo, g.op('Mul', [g.op('Sub', [hi, lo]), w])]); // [B, A]
    const hp1 = g.constFloat(Float32Array.from({ length: H }, (_, h) => h + 1));
    const s = g.op('Clip', [g.op('Div', [hp1, T]), scalar(0), scalar(1)]); // [B, H]
    const uh = g.op('Min', [g.op('Add', [unsq(u, 1), unsq(s, 2)]), scalar(1)]); // [B, H, A]
    const along = g.op('Add', [unsq(from, 1), g.op('Mul', [unsq(d, 1), phiOf(uh)])]);
    const deviation = g.op('Sub', [cur, g.op('Add', [from, g.op('Mul', [d, phiOf(u)])])]); // [B, A]
    const sDev = g.op('Clip', [g.op('Div', [hp1, g.op('Min', [T, scalar(DEVIATION_STEPS)])]), scalar(0), scalar(1)]); // [B, H]
    const fade = g.op('Sub', [scalar(1), unsq(phiOf(sDev), 2)]); // [B, H, 1]
    const mu = g.op('Add', [along, g.op('Mul', [unsq(deviation, 1), fade])]); // [B, H, A]
    const gain = g.op('Min', [g.op('Div', [g.op('Abs', [g.op('Sub', [goal, cur])]), g.constFloat(f32(m.travelUnit))]), scalar(1)]);
    const gain2 = unsq(g.op('Mul', [gain, gain]), 1); // [B, 1, A]

    const Q = g.constFloat(f32(m.q), [H, H]);
    const QT = g.constFloat(f32(transpose(m.q, H)), [H, H]);
    const Lambda = g.op('Mul', [g.constFloat(f32(m.lambda), [H, A]), gain2]); // [B, H, A]
    const one = scalar(1);
    const abar = m.alphaBar === null ? null : g.constFloat(f32(m.alphaBar));
    const shape3 = g.constInt64([-1, 1, 1]);

    return (x: string, t: string): string => {
      let a: string, S: string;
      if (abar !== null) {
        const k = g.op('Cast', [g.op('Clip', [g.op('Round', [t]), scalar(0), scalar(c.trainSteps - 1)])], { to: attr.int(7) });
        const ab = g.op('Reshape', [g.op('Gather', [abar, k]), shape3]); // [B, 1, 1]
        const oneMinus = g.op('Sub', [one, ab]);
        a = g.op('Sqrt', [ab]);
        S = g.op('Div', [g.op('Sqrt', [oneMinus]), g.op('Add', [g.op('Mul', [ab, Lambda]), oneMinus])]);
      } else {
        const tt = g.op('Reshape', [g.op('Clip', [t, scalar(0), one]), shape3]);
        const omt = g.op('Sub', [one, tt]);
        a = tt;
        S = g.op('Div', [
          g.op('Sub', [g.op('Mul', [tt, Lambda]), omt]),
          g.op('Add', [g.op('Mul', [g.op('Mul', [tt, tt]), Lambda]), g.op('Mul', [omt, omt])]),
        ]);
      }
      const r = g.op('Sub', [x, g.op('Mul', [a, mu])]);
      const w = g.op('MatMul', [Q, g.op('Mul', [S, g.op('MatMul', [QT, r])])]);
      return abar !== null ? w : g.op('Add', [mu, w]);
    };
  };
  return { spec, parameterCount: 0, prepare, model: m };
}

/** The reference denoiser model (kind 'denoiser'), ONNX bytes. */
export function buildReferenceDecoder(opts: ReferenceDecoderOptions): Uint8Array {
  return buildDenoiserModel(referenceEmitter(opts));
}
