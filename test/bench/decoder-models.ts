/** The decoder models the decoder benchmarks run: the reference decoder and the DiT presets,
 * built in memory with the model toolchain (edge/decoder/models), per-step and fused. */
import { buildFusedDecoder } from '../../edge/decoder/models/fused-decoder.js';
import { buildDenoiserModel, type DenoiserEmitter } from '../../edge/decoder/models/denoiser-emitter.js';
import { ditEmitter } from '../../edge/decoder/models/dit-decoder.js';
import { DIT_PRESETS, type DitPresetName } from '../../edge/decoder/models/dit-presets.js';
import { referenceEmitter } from '../../edge/decoder/models/reference-decoder.js';

export interface BenchDims { horizon: number; actionDim: number }
export const BENCH_DIMS: BenchDims[] = [{ horizon: 16, actionDim: 7 }, { horizon: 50, actionDim: 14 }];
export type BenchModelName = 'reference' | DitPresetName;

export function benchEmitter(name: BenchModelName, d: BenchDims): DenoiserEmitter {
  const common = { actionDim: d.actionDim, horizon: d.horizon, parameterization: 'velocity' as const, defaultSteps: 10 };
  if (name === 'reference') return referenceEmitter(common);
  const p = DIT_PRESETS[name];
  return ditEmitter({ ...common, latentDim: d.actionDim + 1, seed: 1, width: p.width, depth: p.depth, heads: p.heads, ...('registerTokens' in p ? { registerTokens: p.registerTokens, modulation: p.modulation } : {}) });
}

export function stepModel(e: DenoiserEmitter): Uint8Array {
  return buildDenoiserModel(e);
}

export function fusedModel(e: DenoiserEmitter, steps: number): Uint8Array {
  return buildFusedDecoder(e, { sampler: 'euler', steps });
}
