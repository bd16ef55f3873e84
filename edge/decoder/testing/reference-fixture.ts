/** Shared set-up of the reference-model tests: options with non-trivial normalisation, a latent
 * and a state, and helpers to gather chunk statistics in the model's eigenbasis. */
import type { ReferenceDecoderOptions } from '../models/reference-distribution.js';
import { referenceMean, type ReferenceModel } from '../models/reference-distribution.js';
import { toEigen } from './sampler-oracle.js';

export function referenceOptions(parameterization: 'epsilon' | 'velocity', horizon = 16, actionDim = 7): ReferenceDecoderOptions {
  return {
    actionDim,
    horizon,
    parameterization,
    sigma: 0.5,
    // The sampler tests check the sampler against a fixed Gaussian: full spread on every joint
    // whatever its remaining travel (gamma = 1; the gain has its own tests).
    travelScale: 1e-6,
    actionMean: Array.from({ length: actionDim }, (_, j) => 0.1 * j - 0.2),
    actionStd: Array.from({ length: actionDim }, (_, j) => 0.5 + 0.1 * j),
    stateMean: Array.from({ length: actionDim }, (_, j) => 0.05 * j),
    stateStd: Array.from({ length: actionDim }, (_, j) => 0.8 + 0.05 * j),
  };
}

/** A goal inside the range, a motion of 24 control steps towards it from a start on the other
 * side; a state near the mean. */
export function referenceInputs(actionDim: number): { latent: Float32Array; state: Float32Array } {
  const latent = new Float32Array(2 * actionDim + 1);
  for (let j = 0; j < actionDim; j++) {
    latent[j] = 0.6 * Math.sin(1.3 * j + 0.4);
    latent[actionDim + 1 + j] = -0.3 * (latent[j] as number);
  }
  latent[actionDim] = Math.log(24 / 16);
  const state = Float32Array.from({ length: actionDim }, (_, j) => 0.1 * Math.cos(j));
  return { latent, state };
}

/** Running first and second moments of chunks, in normalised space and the eigenbasis. */
export class EigenMoments {
  readonly n: number;
  count = 0;
  private readonly sum: Float64Array;
  private readonly cross: Float64Array;
  private readonly y: Float64Array;
  private readonly xn: Float64Array;

  constructor(private readonly m: ReferenceModel, private readonly mean: Float32Array, private readonly std: Float32Array) {
    this.n = m.common.horizon * m.common.actionDim;
    this.sum = new Float64Array(this.n);
    this.cross = new Float64Array(this.n * this.n);
    this.y = new Float64Array(this.n);
    this.xn = new Float64Array(this.n);
  }

  /** Adds every chunk of `actions` ([B, H, A], robot units). */
  add(actions: Float32Array): void {
    const { n } = this;
    const A = this.m.common.actionDim;
    for (let b = 0; b < actions.length / n; b++) {
      for (let i = 0; i < n; i++) this.xn[i] = ((actions[b * n + i] as number) - (this.mean[i % A] as number)) / (this.std[i % A] as number);
      const y = toEigen(this.m, this.xn, this.y);
      for (let i = 0; i < n; i++) {
        const yi = y[i] as number;
        this.sum[i] = (this.sum[i] as number) + yi;
        for (let j = 0; j <= i; j++) this.cross[i * n + j] = (this.cross[i * n + j] as number) + yi * (y[j] as number);
      }
      this.count++;
    }
  }

  meanOf(i: number): number {
    return (this.sum[i] as number) / this.count;
  }

  /** Sample covariance of eigen-coordinates i >= j. */
  cov(i: number, j: number): number {
    const N = this.count;
    return ((this.cross[i * this.n + j] as number) - N * this.meanOf(i) * this.meanOf(j)) / (N - 1);
  }
}

/** m = (Q (x) I)^T mu for the model's mean at these inputs (state in robot units; all else
 * normalised, as the graph sees it). */
export function eigenMean(m: ReferenceModel, latent: Float32Array, state: Float32Array): Float64Array {
  const sn = Float64Array.from(state, (v, j) => (v - (m.common.stateMean[j] as number)) / (m.common.stateStd[j] as number));
  const mu = referenceMean(m, latent, sn);
  return toEigen(m, mu, new Float64Array(mu.length));
}
