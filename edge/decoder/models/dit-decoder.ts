/**
 * A diffusion transformer over the action chunk, with seeded random weights (benchmark decoders).
 *
 *   tokens  h = x_t W_in + b_in + pos                                        [B, H, W]
 *           (R learned register tokens are prepended when registerTokens > 0; dropped at the end)
 *   cond    c = W_2 SiLU(W_z latent + W_s state + W_t temb(t) + b_1) + b_2  [B, W]
 *           temb(t) = [cos(t' f_i), sin(t' f_i)], f_i = 10000^(-i / (E/2)), t' = t (epsilon: step index)
 *           or 1000 t (velocity: flow time)
 *   block   m = SiLU(c) W_mod + b_mod, split into shift/scale(/gate) chunks [B, 1, W] each
 *           h += gate1 * Attn(LN(h) * (1 + scale1) + shift1)
 *           h += gate2 * MLP(LN(h) * (1 + scale2) + shift2)    ('adaln-attn': MLP(LN(h)), gates 1)
 *   out     (LN(h) * (1 + scale) + shift) W_out + b_out                      [B, H, A]
 * LN is LayerNormalization without affine parameters; MLP is Linear-GELU(erf)-Linear.
 * Invariant: the "+1" of every (1 + scale) is baked into the modulation bias, so the graph
 * multiplies by the chunk directly.
 * Init: weights uniform with std gain / sqrt(fan_in) (gain 1; 0.5 for modulations), biases std
 * 0.02, so activations stay O(1) at any depth (LN before each sublayer).
 */
import type { GraphBuilder } from '../../../proto/onnx/index.js';
import { attr } from '../../../proto/onnx/index.js';
import { denoiserSpec, resolveCommon, type CommonDecoderOptions } from './decoder-options.js';
import { buildDenoiserModel, type DenoiserEmitter, type StepEmitter } from './denoiser-emitter.js';
import { ditParameterCount, type DitShape } from './dit-presets.js';
import { SeededRng } from './rng.js';

export interface DitDecoderOptions extends CommonDecoderOptions, DitShape {
  latentDim: number;
  seed: number;
  /** The LATENT_SPACE metadata value (default "spinal.benchmark/random"). */
  latentSpace?: string;
}

export function ditEmitter(o: DitDecoderOptions): DenoiserEmitter {
  const c = resolveCommon(o);
  const A = c.actionDim, H = c.horizon, W = o.width, heads = o.heads;
  const r = o.mlpRatio ?? 4, R = o.registerTokens ?? 0, E = o.timeEmbedDim ?? 256;
  const adalnZero = (o.modulation ?? 'adaln-zero') === 'adaln-zero';
  if (W % heads !== 0) throw new RangeError(`width ${W} is not a multiple of heads ${heads}`);
  if (E % 2 !== 0) throw new RangeError('timeEmbedDim must be even');
  const dh = W / heads;
  const name = o.name ?? `dit-w${W}-d${o.depth}-${c.parameterization}-a${A}-h${H}`;
  const spec = denoiserSpec(c, { name, latentDim: o.latentDim, latentSpace: o.latentSpace ?? 'spinal.benchmark/random' });
  const parameterCount = ditParameterCount(o, { actionDim: A, stateDim: c.stateDim, latentDim: o.latentDim, horizon: H });

  const prepare = (g: GraphBuilder, latent: string, state: string): StepEmitter => {
    const rng = new SeededRng(o.seed);
    const weight = (n: string, fanIn: number, fanOut: number, gain = 1): string => {
      rng.fillUniform(g.allocFloat(n, [fanIn, fanOut]), gain / Math.sqrt(fanIn));
      return n;
    };
    const bias = (n: string, size: number, plusOneChunks: readonly number[] = []): string => {
      const b = rng.fillUniform(g.allocFloat(n, [size]), 0.02);
      for (const k of plusOneChunks) for (let i = k * W; i < (k + 1) * W; i++) b[i] = (b[i] as number) + 1;
      return n;
    };
    const silu = (x: string): string => g.op('Mul', [x, g.op('Sigmoid', [x])]);
    const ones = g.constFloat(new Float32Array(W).fill(1));
    const ln = (x: string): string => g.op('LayerNormalization', [x, ones], { axis: attr.int(-1), epsilon: attr.float(1e-6) });
    const k1 = g.constInt64([1]);

    // Weights are drawn in a fixed order: embeddings, conditioning, blocks, final layer.
    const wIn = weight('in.w', A, W), bIn = bias('in.b', W);
    const pos = 'pos';
    rng.fillUniform(g.allocFloat(pos, [R + H, W]), 1); // learned positions, unit scale like the tokens
    const wz = weight('cond.latent.w', o.latentDim, W), ws = weight('cond.state.w', c.stateDim, W);
    const wt = weight('cond.time.w', E, W), b1 = bias('cond.b1', W);
    const condBase = g.op('Add', [g.op('Add', [g.op('MatMul', [latent, wz]), g.op('MatMul', [state, ws])]), b1]);
    const freqs = g.constFloat(Float32Array.from({ length: E / 2 }, (_, i) => Math.exp((-Math.log(10000) * i) / (E / 2))));
    const tScale = g.constFloat([c.parameterization === 'velocity' ? 1000 : 1], []);
    const w2 = weight('cond.w2', W, W), b2 = bias('cond.b2', W);

    interface Block { mod: { w: string; b: string }; qkv: string[]; out: string[]; fc1: string[]; fc2: string[] }
    const chunks = adalnZero ? 6 : 2;
    const blocks: Block[] = [];
    for (let l = 0; l < o.depth; l++) {
      const p = `blk${l}`;
      // chunk order: shift1, scale1, gate1, shift2, scale2, gate2 (adaln-attn: shift1, scale1)
      const mod = { w: weight(`${p}.mod.w`, W, chunks * W, 0.5), b: bias(`${p}.mod.b`, chunks * W, adalnZero ? [1, 4] : [1]) };
      blocks.push({
        mod,
        qkv: [weight(`${p}.qkv.w`, W, 3 * W), bias(`${p}.qkv.b`, 3 * W)],
        out: [weight(`${p}.proj.w`, W, W), bias(`${p}.proj.b`, W)],
        fc1: [weight(`${p}.fc1.w`, W, r * W), bias(`${p}.fc1.b`, r * W)],
        fc2: [weight(`${p}.fc2.w`, r * W, W), bias(`${p}.fc2.b`, W)],
      });
    }
    const fmod = { w: weight('final.mod.w', W, 2 * W, 0.5), b: bias('final.mod.b', 2 * W, [1]) };
    const wOut = weight('out.w', W, A), bOut = bias('out.b', A);
    const regs = R > 0 ? g.initFloat('registers', [1, R, W], new SeededRng(o.seed + 1).fillUniform(new Float32Array(R * W), 1)) : null;

    const split = (x: string, n: number, size: number, axis = -1): string[] =>
      g.node('Split', [x, g.constInt64(new Array<number>(n).fill(size))], n, { axis: attr.int(axis) });
    const headsShape = g.constInt64([0, 0, heads, dh]);
    const mergeShape = g.constInt64([0, 0, W]);
    const qScale = g.constFloat([1 / Math.sqrt(dh)], []);
    const invSqrt2 = g.constFloat([Math.SQRT1_2], []), half = g.constFloat([0.5], []), one = g.constFloat([1], []);
    const gelu = (x: string): string =>
      g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.op('Erf', [g.op('Mul', [x, invSqrt2])]), one])]), half]);
    const attention = (x: string, b: Block): string => {
      const [q, k, v] = split(g.op('Add', [g.op('MatMul', [x, b.qkv[0] as string]), b.qkv[1] as string]), 3, W) as [string, string, string];
      const toHeads = (y: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [y, headsShape])], { perm: attr.ints(perm) });
      const qh = toHeads(g.op('Mul', [q, qScale]), [0, 2, 1, 3]); // [B, nh, N, dh]
      const kh = toHeads(k, [0, 2, 3, 1]); // [B, nh, dh, N]
      const vh = toHeads(v, [0, 2, 1, 3]);
      const p = g.op('Softmax', [g.op('MatMul', [qh, kh])], { axis: attr.int(-1) });
      const o2 = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [p, vh])], { perm: attr.ints([0, 2, 1, 3]) }), mergeShape]);
      return g.op('Add', [g.op('MatMul', [o2, b.out[0] as string]), b.out[1] as string]);
    };
    const modulations = (cs: string, m: { w: string; b: string }, n: number): string[] =>
      split(g.op('Unsqueeze', [g.op('Add', [g.op('MatMul', [cs, m.w]), m.b]), k1]), n, W); // n x [B, 1, W]

    return (x: string, t: string): string => {
      const targ = g.op('Mul', [g.op('Unsqueeze', [g.op('Mul', [t, tScale]), k1]), freqs]); // [B|1, E/2]
      const temb = g.node('Concat', [g.op('Cos', [targ]), g.op('Sin', [targ])], 1, { axis: attr.int(-1) })[0] as string;
      const hidden = silu(g.op('Add', [condBase, g.op('MatMul', [temb, wt])]));
      const cs = silu(g.op('Add', [g.op('MatMul', [hidden, w2]), b2])); // SiLU(c), [B, W]

      let h = g.op('Add', [g.op('MatMul', [x, wIn]), bIn]); // [B, H, W]
      if (regs !== null) {
        const batch = g.op('Shape', [x], { start: attr.int(0), end: attr.int(1) });
        const shape = g.node('Concat', [batch, g.constInt64([R, W])], 1, { axis: attr.int(0) })[0] as string;
        h = g.node('Concat', [g.op('Expand', [regs, shape]), h], 1, { axis: attr.int(1) })[0] as string;
      }
      h = g.op('Add', [h, pos]);
      for (const b of blocks) {
        const m = modulations(cs, b.mod, chunks);
        const a = attention(g.op('Add', [g.op('Mul', [ln(h), m[1] as string]), m[0] as string]), b);
        h = g.op('Add', [h, adalnZero ? g.op('Mul', [a, m[2] as string]) : a]);
        const mlpIn = adalnZero ? g.op('Add', [g.op('Mul', [ln(h), m[4] as string]), m[3] as string]) : ln(h);
        const y = g.op('Add', [g.op('MatMul', [gelu(g.op('Add', [g.op('MatMul', [mlpIn, b.fc1[0] as string]), b.fc1[1] as string])), b.fc2[0] as string]), b.fc2[1] as string]);
        h = g.op('Add', [h, adalnZero ? g.op('Mul', [y, m[5] as string]) : y]);
      }
      if (regs !== null) h = g.op('Slice', [h, g.constInt64([R]), g.constInt64([R + H]), k1]);
      const fm = modulations(cs, fmod, 2);
      const y = g.op('Add', [g.op('Mul', [ln(h), fm[1] as string]), fm[0] as string]);
      return g.op('Add', [g.op('MatMul', [y, wOut]), bOut]);
    };
  };
  return { spec, parameterCount, prepare };
}

/** The DiT denoiser model (kind 'denoiser'), ONNX bytes. */
export function buildDitDecoder(o: DitDecoderOptions): Uint8Array {
  return buildDenoiserModel(ditEmitter(o));
}
