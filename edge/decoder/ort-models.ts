/**
 * The ONNX backends of the Denoiser and FusedModel seams. Every input and the output are
 * onnxruntime tensors wrapped once around the seam's own Float32Arrays: onnxruntime reads the
 * inputs from them at each run and writes the output into the preallocated `out` / `actions`
 * (a fetch with a preallocated tensor), so a step allocates no buffers of ours.
 */
import ort from 'onnxruntime-node';
import { InputName, OutputName, type DecoderSpec, type Parameterization } from './contract.js';
import { allocDenoiserIO, type Denoiser, type DenoiserIO } from './denoiser.js';
import { allocFusedIO, type FusedIO, type FusedModel } from './fused-model.js';

const tensor = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor('float32', data, dims);

export class OrtDenoiser implements Denoiser {
  readonly io: DenoiserIO;
  readonly parameterization: Parameterization;
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;

  constructor(private readonly session: ort.InferenceSession, spec: DecoderSpec, batch: number) {
    const { horizon: H, actionDim: A, latentDim: Dz, stateDim: Ds } = spec;
    this.parameterization = spec.parameterization;
    this.io = allocDenoiserIO(batch, H, A, Dz, Ds);
    const io = this.io;
    this.feeds = {
      [InputName.LATENT]: tensor(io.latent, [batch, Dz]),
      [InputName.STATE]: tensor(io.state, [batch, Ds]),
      [InputName.X_T]: tensor(io.x, [batch, H, A]),
      [InputName.T]: tensor(io.t, [batch]),
    };
    if (spec.supportsPrefix) {
      this.feeds[InputName.PREFIX] = tensor(io.prefix, [batch, H, A]);
      this.feeds[InputName.PREFIX_MASK] = tensor(io.prefixMask, [batch, H]);
    }
    this.fetches = { [OutputName.OUT]: tensor(io.out, [batch, H, A]) };
  }

  async evaluate(): Promise<void> {
    await this.session.run(this.feeds, this.fetches);
  }
}

export class OrtFusedModel implements FusedModel {
  readonly io: FusedIO;
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;

  constructor(private readonly session: ort.InferenceSession, spec: DecoderSpec, batch: number) {
    const { horizon: H, actionDim: A, latentDim: Dz, stateDim: Ds } = spec;
    this.io = allocFusedIO(batch, H, A, Dz, Ds);
    const io = this.io;
    this.feeds = {
      [InputName.LATENT]: tensor(io.latent, [batch, Dz]),
      [InputName.STATE]: tensor(io.state, [batch, Ds]),
      [InputName.NOISE]: tensor(io.noise, [batch, H, A]),
    };
    if (spec.supportsPrefix) {
      this.feeds[InputName.PREFIX] = tensor(io.prefix, [batch, H, A]);
      this.feeds[InputName.PREFIX_MASK] = tensor(io.prefixMask, [batch, H]);
    }
    this.fetches = { [OutputName.ACTIONS]: tensor(io.actions, [batch, H, A]) };
  }

  async run(): Promise<void> {
    await this.session.run(this.feeds, this.fetches);
  }
}
