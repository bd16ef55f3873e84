/**
 * The seam for fused models (contract.ts, kind `fused`): the whole sampling loop in one call,
 * deterministic given its starting noise. Like Denoiser, it owns its buffers; the ONNX backend
 * wraps them in tensors once. A fused call cannot be interrupted: cancellation takes effect only
 * after it returns.
 */
export interface FusedIO {
  readonly batch: number;
  readonly latent: Float32Array;
  readonly state: Float32Array;
  /** The starting sample [B, H, A]. */
  readonly noise: Float32Array;
  readonly prefix: Float32Array;
  readonly prefixMask: Float32Array;
  /** The result [B, H, A], normalised action space. */
  readonly actions: Float32Array;
}

export interface FusedModel {
  readonly io: FusedIO;
  run(): Promise<void> | void;
}

export function allocFusedIO(batch: number, horizon: number, actionDim: number, latentDim: number, stateDim: number): FusedIO {
  const n = batch * horizon * actionDim;
  return {
    batch,
    latent: new Float32Array(batch * latentDim),
    state: new Float32Array(batch * stateDim),
    noise: new Float32Array(n),
    prefix: new Float32Array(n),
    prefixMask: new Float32Array(batch * horizon),
    actions: new Float32Array(n),
  };
}
