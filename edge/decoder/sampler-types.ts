/** What a sampling run needs beyond the denoiser: options, scratch buffers and a stop check. */
import type { DecoderSpec, Parameterization } from './contract.js';
import type { GaussianNoise } from './gaussian-noise.js';
import type { PrefixInpainter } from './prefix-inpainting.js';

/** ddpm and ddim integrate epsilon models; euler and heun integrate velocity (flow) models. */
export type SamplerName = 'ddpm' | 'ddim' | 'euler' | 'heun';

export const SAMPLER_PARAMETERIZATION: Readonly<Record<SamplerName, Parameterization>> = {
  ddpm: 'epsilon',
  ddim: 'epsilon',
  euler: 'velocity',
  heun: 'velocity',
};

/** Why `sampler` cannot run this model (null when it can): checked once at load, not per chunk. */
export function samplerMismatch(sampler: SamplerName, spec: Pick<DecoderSpec, 'name' | 'kind' | 'parameterization' | 'fusedSampler'>): string | null {
  if (spec.kind === 'fused') {
    const baked = spec.fusedSampler ?? 'ddim';
    return baked === sampler ? null : `${JSON.stringify(sampler)} asked for, but the fused model ${JSON.stringify(spec.name)} has ${baked} baked in`;
  }
  const needs = SAMPLER_PARAMETERIZATION[sampler];
  return needs === spec.parameterization ? null : `${JSON.stringify(sampler)} integrates ${needs} models; ${JSON.stringify(spec.name)} is parameterised for ${spec.parameterization}`;
}

/** Model evaluations a sampler makes for `steps` steps (Heun: twice a step, once the last). */
export function evaluationsFor(sampler: SamplerName, steps: number): number {
  return sampler === 'heun' ? 2 * steps - 1 : steps;
}

export interface SamplingOptions {
  sampler: SamplerName;
  /** Denoising steps, >= 1 (for epsilon models <= train_steps). */
  steps: number;
  /** DDIM stochasticity in [0, 1]: 0 deterministic (default), 1 equals DDPM. Ignored otherwise. */
  eta: number;
}

/** Scratch buffers of one sampling run, [B, H, A] each, allocated once per decoder. */
export interface SamplerWorkspace {
  /** The starting noise eps0 (also the noise of inpainted rows). */
  readonly noise: Float32Array;
  /** Heun: the first velocity of a step. */
  readonly v1: Float32Array;
  /** Heun: the sample at the start of a step. */
  readonly xSave: Float32Array;
}

export function allocWorkspace(n: number): SamplerWorkspace {
  return { noise: new Float32Array(n), v1: new Float32Array(n), xSave: new Float32Array(n) };
}

export interface SamplerRun {
  options: SamplingOptions;
  workspace: SamplerWorkspace;
  inpainter: PrefixInpainter;
  /** Per-step noise of stochastic samplers (ddpm, ddim with eta > 0). */
  stepNoise: GaussianNoise;
  /** Checked after every model evaluation; true stops the run (cancellation). */
  shouldStop: () => boolean;
}

/** How a sampling run ended; `evaluations` counts model calls made. */
export type SamplerResult = { status: 'done'; evaluations: number } | { status: 'stopped'; evaluations: number };
