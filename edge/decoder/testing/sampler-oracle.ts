/**
 * The exact distribution a sampler produces over the reference decoder (test oracle). The reference
 * model is linear-Gaussian and diagonal in the eigenbasis (Q (x) I) of its covariance, with
 * eigenvalues Lambda_i (models/reference-distribution.ts), and every sampler step is affine in the
 * sample, so per eigen-coordinate the result of a run is exactly y = alpha_i m_i + noise of
 * variance v_i, m = (Q (x) I)^T mu. Discretisation makes alpha != 1 and v != Lambda at few steps
 * (few-step samplers shrink the variance of low-variance data); both tend to the true values as
 * steps grow. This recomputes that recursion in float64, independently of the runtime's samplers.
 */
import type { ReferenceModel } from '../models/reference-distribution.js';
import { alphasCumprod, ddimTimesteps } from '../noise-schedule.js';
import type { SamplerName } from '../sampler-types.js';

export interface EigenDistribution {
  /** Per eigen-coordinate i*A + j: the mean's gain alpha (mean = alpha * m) and the variance. */
  alpha: Float64Array;
  variance: Float64Array;
}

export function samplerDistribution(m: ReferenceModel, sampler: SamplerName, steps: number, eta = 0): EigenDistribution {
  const lambda = m.lambda;
  const alpha = new Float64Array(lambda.length);
  const variance = new Float64Array(lambda.length);
  const c = m.common;
  for (let i = 0; i < lambda.length; i++) {
    const l = lambda[i] as number;
    // Sample y = al * m + noise with variance v; start: pure noise.
    let al = 0;
    let v = 1;
    if (sampler === 'ddim' || sampler === 'ddpm') {
      const abar = alphasCumprod({ schedule: c.betaSchedule, trainSteps: c.trainSteps, betaStart: c.betaStart, betaEnd: c.betaEnd });
      const ks = ddimTimesteps(c.trainSteps, steps);
      const e = sampler === 'ddpm' ? 1 : eta;
      for (let s = 0; s < steps; s++) {
        const ab = abar[ks[s] as number] as number;
        const abp = s + 1 < steps ? (abar[ks[s + 1] as number] as number) : 1;
        const a = Math.sqrt(ab), sd = Math.sqrt(1 - ab);
        const S = sd / (ab * l + 1 - ab); // eps_hat = S (y - a m)
        const sigma = e * Math.sqrt((1 - abp) / (1 - ab)) * Math.sqrt(1 - ab / abp);
        const c1 = Math.sqrt(abp) / a;
        const c2 = Math.sqrt(Math.max(0, 1 - abp - sigma * sigma)) - c1 * sd;
        al = c1 * al + c2 * S * (al - a);
        v = (c1 + c2 * S) ** 2 * v + sigma * sigma;
      }
    } else {
      const S = (t: number): number => (t * l - (1 - t)) / (t * t * l + (1 - t) ** 2); // v = m + S (y - t m)
      const vel = (a0: number, t: number): [number, number] => [1 + S(t) * (a0 - t), S(t)]; // [mean gain, noise gain]
      let g = 1; // noise gain (deterministic samplers): v = g^2
      for (let s = 0; s < steps; s++) {
        const t = s / steps, h = 1 / steps;
        const [va, vg] = vel(al, t);
        if (sampler === 'euler' || s === steps - 1) {
          al += h * va;
          g += h * vg * g;
          continue;
        }
        const pa = al + h * va, pg = g + h * vg * g;
        const [va2, vg2] = vel(pa, t + h);
        al += (h / 2) * (va + va2);
        g += (h / 2) * (vg * g + vg2 * pg);
      }
      v = g * g;
    }
    alpha[i] = al;
    variance[i] = v;
  }
  return { alpha, variance };
}

/** (Q (x) I)^T x for a chunk x [H, A]: its eigen-coordinates. */
export function toEigen(m: ReferenceModel, x: ArrayLike<number>, out: Float64Array): Float64Array {
  const { horizon: H, actionDim: A } = m.common;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < A; j++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += (m.q[h * H + i] as number) * (x[h * A + j] as number);
      out[i * A + j] = s;
    }
  }
  return out;
}
