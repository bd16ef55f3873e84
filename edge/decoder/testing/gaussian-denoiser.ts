/** A pure-TS denoiser (no ONNX): the exact MMSE denoiser of independent per-element Gaussians
 * N(mean, variance) in normalised space, epsilon or velocity. Lets the samplers and the core be
 * tested without onnxruntime (the fake beside the interface). */
import type { Parameterization } from '../contract.js';
import { allocDenoiserIO, type Denoiser, type DenoiserIO } from '../denoiser.js';

export class GaussianDenoiser implements Denoiser {
  readonly io: DenoiserIO;
  calls = 0;

  constructor(readonly parameterization: Parameterization, batch: number, horizon: number, actionDim: number,
    private readonly mean: number, private readonly variance: number, private readonly abar: Float64Array | null) {
    this.io = allocDenoiserIO(batch, horizon, actionDim, 1, 1);
  }

  evaluate(): void {
    this.calls++;
    const { x, t, out } = this.io;
    const per = x.length / this.io.batch;
    const m = this.mean, l = this.variance;
    for (let i = 0; i < x.length; i++) {
      const tt = t[Math.floor(i / per)] as number;
      const xi = x[i] as number;
      if (this.parameterization === 'epsilon') {
        const ab = (this.abar as Float64Array)[tt] as number;
        const a = Math.sqrt(ab), s = Math.sqrt(1 - ab);
        out[i] = (s / (ab * l + 1 - ab)) * (xi - a * m);
      } else {
        out[i] = m + ((tt * l - (1 - tt)) / (tt * tt * l + (1 - tt) ** 2)) * (xi - tt * m);
      }
    }
  }
}
