/**
 * The reference decoder as an ONNX graph: the exact MMSE denoiser of the Gaussian of
 * reference-distribution.ts, for the epsilon or the velocity parameterisation (MATH.md).
 *
 * Graph, per batch row (B symbolic):
 *   xg  = clip(latent[:, :A], -1, 1) * goalScale + goalOffset                 [B, A]
 *   c   = state[:, :A] * stateScale + stateOffset                             [B, A]
 *   T   = max(1, T_REF exp(clip(latent[:, A], -10, 10)))                      [B, 1]
 *   phi = minjerk(clip((h + 1) / T, 0, 1))                                    [B, H]
 *   mu  = c + (xg - c) phi                                                    [B, H, A]
 *   out = b mu + Q (S(t) o (Q^T (x_t - a(t) mu)))                             [B, H, A]
 * where Q^T acts on the time axis (MatMul of [H, H] with [B, H, A]) and S, a, b as in
 * referenceDenoise. The latent/state part is emitted once (`prepare`), the rest per step.
 */
import type { GraphBuilder } from '../../../proto/onnx/index.js';
import { attr } from '../../../proto/onnx/index.js';
import {
  LOG_TIME_CLIP, REFERENCE_GOAL_LATENT_SPACE, REFERENCE_TIME_STEPS, referenceGoalLatentDim,
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
    const goal = g.op('Add', [
      g.op('Mul', [g.op('Clip', [slice(latent, 0, A), scalar(-1), scalar(1)]), g.constFloat(f32(m.goalScale))]),
      g.constFloat(f32(m.goalOffset)),
    ]);
    const pos = c.stateDim === A ? state : slice(state, 0, A);
    const cur = g.op('Add', [g.op('Mul', [pos, g.constFloat(f32(m.stateScale))]), g.constFloat(f32(m.stateOffset))]);
    const logT = g.op('Clip', [slice(latent, A, A + 1), scalar(-LOG_TIME_CLIP), scalar(LOG_TIME_CLIP)]);
    const T = g.op('Max', [g.op('Mul', [g.op('Exp', [logT]), scalar(REFERENCE_TIME_STEPS)]), scalar(1)]);
    const hp1 = g.constFloat(Float32Array.from({ length: H }, (_, h) => h + 1));
    const s = g.op('Clip', [g.op('Div', [hp1, T]), scalar(0), scalar(1)]); // [B, H]
    const s3 = g.op('Mul', [g.op('Mul', [s, s]), s]);
    const poly = g.op('Add', [g.op('Mul', [s, g.op('Add', [g.op('Mul', [s, scalar(6)]), scalar(-15)])]), scalar(10)]);
    const phi = g.op('Unsqueeze', [g.op('Mul', [s3, poly]), g.constInt64([2])]); // [B, H, 1]
    const cur3 = g.op('Unsqueeze', [cur, g.constInt64([1])]); // [B, 1, A]
    const delta3 = g.op('Unsqueeze', [g.op('Sub', [goal, cur]), g.constInt64([1])]);
    const mu = g.op('Add', [cur3, g.op('Mul', [delta3, phi])]); // [B, H, A]

    const Q = g.constFloat(f32(m.q), [H, H]);
    const QT = g.constFloat(f32(transpose(m.q, H)), [H, H]);
    const Lambda = g.constFloat(f32(m.lambda), [H, A]);
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
