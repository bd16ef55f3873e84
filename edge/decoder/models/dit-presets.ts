/**
 * Diffusion-transformer shapes and their parameter counts (the formula mirrors dit-decoder.ts;
 * a test checks it against the initializers actually written).
 *
 * Per block, width W, MLP ratio r:
 *   modulation  'adaln-zero' (DiT): SiLU(c) -> 6W (shift, scale, gate for attention and MLP)  6W^2 + 6W
 *               'adaln-attn' (GR00T's AdaLayerNorm): shift, scale for the attention norm only  2W^2 + 2W
 *   attention   qkv 3W^2 + 3W, output W^2 + W
 *   MLP         W x rW + rW, rW x W + W
 * Outside the blocks: action in-projection A W + W, positional embedding (R + H) W, R learned
 * register tokens R W, conditioning MLP over [latent, state, sinusoidal time (E)] -> W -> W:
 * (Dz + Ds + E) W + W + W^2 + W, final adaLN 2W^2 + 2W, output projection W A + A.
 */

export type DitModulation = 'adaln-zero' | 'adaln-attn';

export interface DitShape {
  width: number;
  depth: number;
  heads: number;
  /** MLP hidden = mlpRatio * width (default 4). */
  mlpRatio?: number;
  /** Learned tokens prepended to the H action tokens (default 0). */
  registerTokens?: number;
  modulation?: DitModulation;
  /** Sinusoidal time-embedding size (even; default 256). */
  timeEmbedDim?: number;
}

export interface DitPreset extends DitShape {
  /** The nominal size the preset aims at (parameters at A = 7, H = 16, Dz = 8, Ds = 7). */
  nominalParams: number;
  note: string;
}

export const DIT_PRESETS = {
  'dit-s': { width: 256, depth: 4, heads: 4, nominalParams: 5e6, note: '~5M, DiT-S-like block at small depth' },
  'dit-m': { width: 384, depth: 8, heads: 6, nominalParams: 20e6, note: '~20M' },
  'dit-l': { width: 768, depth: 7, heads: 12, nominalParams: 80e6, note: '~80M, the size of Helix S1' },
  /**
   * Shaped like GR00T N1.5's action-head DiT as far as public code shows (Isaac-GR00T
   * FlowmatchingActionHead, read from third-party notes, not verified against the checkpoint):
   * 16 blocks, 32 heads x 48 = 1536 wide, 4x GELU MLP, AdaLayerNorm (shift/scale) on the attention
   * norm, 49 tokens for a 16-step chunk (1 state + 32 future tokens + 16 actions, here 33 learned
   * registers + H). Its alternate-layer cross-attention to the 2048-wide VLM tokens is omitted (no
   * VLM tokens on the edge), so this is its self-attention compute skeleton: ~530M parameters,
   * 2.1 GB float32, just under the 2 GiB protobuf limit; built only when asked for by name.
   */
  'gr00t-n15-like': {
    width: 1536, depth: 16, heads: 32, registerTokens: 33, modulation: 'adaln-attn',
    nominalParams: 530e6, note: 'GR00T N1.5 action-head DiT shape without cross-attention (~530M)',
  },
} as const satisfies Record<string, DitPreset>;

export type DitPresetName = keyof typeof DIT_PRESETS;

export interface DitDims {
  actionDim: number;
  stateDim: number;
  latentDim: number;
  horizon: number;
}

/** Learnable parameters of a DiT of this shape and these dims (see the header for the formula). */
export function ditParameterCount(shape: DitShape, d: DitDims): number {
  const W = shape.width, r = shape.mlpRatio ?? 4, R = shape.registerTokens ?? 0, E = shape.timeEmbedDim ?? 256;
  const chunks = (shape.modulation ?? 'adaln-zero') === 'adaln-zero' ? 6 : 2;
  const block = chunks * (W * W + W) + 3 * W * W + 3 * W + W * W + W + 2 * r * W * W + r * W + W;
  const outside = d.actionDim * W + W + (R + d.horizon) * W + R * W
    + (d.latentDim + d.stateDim + E) * W + W + W * W + W
    + 2 * W * W + 2 * W + W * d.actionDim + d.actionDim;
  return shape.depth * block + outside;
}
