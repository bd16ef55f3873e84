/**
 * The seam between samplers and models: a Denoiser owns its input and output buffers;
 * a sampler writes the current sample into `io.x` and the time into `io.t`, calls `evaluate()`,
 * and reads the model's output from `io.out`. The ONNX backend wraps these very arrays in
 * onnxruntime tensors once (no copy, no allocation per step); a pure-TS denoiser reads them
 * directly, so every sampler is testable without ONNX.
 *
 * Layout: row-major, batch first. latent [B, Dz], state [B, Ds] (normalised), x/out/prefix
 * [B, H, A] (normalised action space), t [B], prefixMask [B, H].
 */
import type { Parameterization } from './contract.js';

export interface DenoiserIO {
  readonly batch: number;
  readonly horizon: number;
  readonly actionDim: number;
  readonly latent: Float32Array;
  readonly state: Float32Array;
  readonly x: Float32Array;
  readonly t: Float32Array;
  /** Fed to the model only when it supports a prefix; the runtime fills them either way. */
  readonly prefix: Float32Array;
  readonly prefixMask: Float32Array;
  readonly out: Float32Array;
}

export interface Denoiser {
  readonly parameterization: Parameterization;
  readonly io: DenoiserIO;
  /** One model evaluation: reads io.{latent,state,x,t,prefix,prefixMask}, writes io.out. */
  evaluate(): Promise<void> | void;
}

/** Buffers for a denoiser of the given dims. */
export function allocDenoiserIO(batch: number, horizon: number, actionDim: number, latentDim: number, stateDim: number): DenoiserIO {
  const n = batch * horizon * actionDim;
  return {
    batch, horizon, actionDim,
    latent: new Float32Array(batch * latentDim),
    state: new Float32Array(batch * stateDim),
    x: new Float32Array(n),
    t: new Float32Array(batch),
    prefix: new Float32Array(n),
    prefixMask: new Float32Array(batch * horizon),
    out: new Float32Array(n),
  };
}
