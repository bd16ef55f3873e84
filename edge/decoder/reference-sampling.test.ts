/**
 * Samples drawn through onnxruntime with the TS samplers from the reference decoder (an exact MMSE
 * denoiser of a known Gaussian) against closed forms: per eigen-coordinate of the Gaussian, the
 * exact distribution the discretised sampler produces (testing/sampler-oracle.ts), which tends to
 * the true distribution as steps grow (checked here too). N = 2000 chunks, 500 per call.
 * Statistical bounds (deterministic seeds, so no flakiness, but chosen to hold for any seed):
 * mean z-scores |z| < 4.5, variance ratio |r - 1| < 5 sqrt(2/N), correlations < 5/sqrt(N).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDecoder, type LoadedDecoder } from './decoder-loader.js';
import { buildReferenceDecoder } from './models/reference-decoder.js';
import { referenceModel, type ReferenceModel } from './models/reference-distribution.js';
import type { SamplerName } from './sampler-types.js';
import { EigenMoments, eigenMean, referenceInputs, referenceOptions } from './testing/reference-fixture.js';
import { samplerDistribution } from './testing/sampler-oracle.js';

const N = 2000;
const B = 500;

async function sampleMoments(d: LoadedDecoder, m: ReferenceModel, sampler: SamplerName, steps: number, seed: number): Promise<EigenMoments> {
  const { latent, state } = referenceInputs(m.common.actionDim);
  const mom = new EigenMoments(m, d.info.spec.actionMean, d.info.spec.actionStd);
  for (let r = 0; r < N / B; r++) {
    const res = await d.core.decode({ latent, state, seed: seed + r, sampler, steps }, () => false);
    if (res.status !== 'done') throw new Error('decode stopped');
    mom.add(res.actions);
  }
  return mom;
}

function expectMatchesOracle(mom: EigenMoments, m: ReferenceModel, sampler: SamplerName, steps: number): void {
  const { latent, state } = referenceInputs(m.common.actionDim);
  const mEig = eigenMean(m, latent, state);
  const oracle = samplerDistribution(m, sampler, steps);
  let maxZ = 0, maxVar = 0, maxCorr = 0;
  for (let i = 0; i < mom.n; i++) {
    const v = oracle.variance[i] as number;
    maxZ = Math.max(maxZ, Math.abs(mom.meanOf(i) - (oracle.alpha[i] as number) * (mEig[i] as number)) / Math.sqrt(v / N));
    maxVar = Math.max(maxVar, Math.abs(mom.cov(i, i) / v - 1));
    for (let j = 0; j < i; j++) maxCorr = Math.max(maxCorr, Math.abs(mom.cov(i, j)) / Math.sqrt(v * (oracle.variance[j] as number)));
  }
  expect(maxZ, 'largest mean z-score').toBeLessThan(4.5);
  expect(maxVar, 'largest |variance ratio - 1|').toBeLessThan(5 * Math.sqrt(2 / N));
  expect(maxCorr, 'largest correlation between eigen-coordinates').toBeLessThan(5 / Math.sqrt(N));
}

const CASES: Record<'epsilon' | 'velocity', [SamplerName, number][]> = {
  epsilon: [['ddim', 4], ['ddim', 10], ['ddpm', 10]],
  velocity: [['euler', 4], ['euler', 10], ['heun', 4], ['heun', 10]],
};

for (const parameterization of ['epsilon', 'velocity'] as const) {
  describe(`reference ${parameterization} decoder through onnxruntime`, () => {
    const opts = referenceOptions(parameterization);
    const m = referenceModel(opts);
    let d: LoadedDecoder;
    beforeAll(async () => {
      d = await loadDecoder(buildReferenceDecoder(opts), { batch: B });
    });
    afterAll(async () => {
      await d.session.release();
    });

    it.each(CASES[parameterization])('%s with %i steps: mean and covariance match the sampler\'s closed form', async (sampler, steps) => {
      const mom = await sampleMoments(d, m, sampler, steps, 1000 + steps);
      expect(mom.count).toBe(N);
      expectMatchesOracle(mom, m, sampler, steps);
    });
  });
}

describe('the sampler closed form tends to the true Gaussian', () => {
  it.each([['epsilon', 'ddim', 400], ['epsilon', 'ddpm', 1000], ['velocity', 'euler', 2000], ['velocity', 'heun', 200]] as const)(
    '%s %s at %i steps: mean within 1 percent, covariance within 2 percent (Frobenius) of the data distribution',
    (parameterization, sampler, steps) => {
      const m = referenceModel(referenceOptions(parameterization));
      const { latent, state } = referenceInputs(m.common.actionDim);
      const mEig = eigenMean(m, latent, state);
      const o = samplerDistribution(m, sampler, steps);
      let meanErr = 0, meanNorm = 0, covErr = 0, covNorm = 0;
      for (let i = 0; i < m.lambda.length; i++) {
        const mi = mEig[i] as number, l = m.lambda[i] as number;
        meanErr += (((o.alpha[i] as number) - 1) * mi) ** 2;
        meanNorm += mi * mi;
        covErr += ((o.variance[i] as number) - l) ** 2;
        covNorm += l * l;
      }
      expect(Math.sqrt(meanErr / meanNorm)).toBeLessThan(0.01);
      expect(Math.sqrt(covErr / covNorm)).toBeLessThan(0.02);
    },
  );
});
