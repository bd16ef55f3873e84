import { describe, expect, it } from 'vitest';
import { readModel } from '../../../proto/onnx/index.js';
import { encodeGoal } from '../../../proto/latent/reference-goal.js';
import { InputName, MetaKey, OutputName, type Parameterization } from '../contract.js';
import { samplerSteps } from './fused-decoder.js';
import { buildFusedDecoder } from './fused-decoder.js';
import { buildReferenceDecoder, referenceEmitter } from './reference-decoder.js';
import {
  referenceDenoise, referenceDistribution, referenceMean, referenceModel, type ReferenceDecoderOptions,
} from './reference-distribution.js';
import { SeededRng } from './rng.js';
import { maxAbsDiff, runOnnx } from './test-helpers.js';

const A = 7, H = 16, B = 5;
const base = (p: Parameterization): ReferenceDecoderOptions => ({
  actionDim: A, horizon: H, parameterization: p,
  actionMean: [0, 0.1, -0.2, 0, 0.3, 0, 0.01], actionStd: [1, 1.5, 2, 1, 0.5, 1, 0.02],
  stateMean: [0, 0.1, -0.2, 0, 0.3, 0, 0.01], stateStd: [1, 1.5, 2, 1, 0.5, 1, 0.02],
  sigma: 0.1,
});

function randomInputs(rng: SeededRng, p: Parameterization) {
  const latent = Float32Array.from({ length: B * (A + 1) }, (_, i) => (i % (A + 1) === A ? rng.normal() : 1.4 * (rng.next() * 2 - 1)));
  const state = Float32Array.from({ length: B * A }, () => rng.normal());
  const x = Float32Array.from({ length: B * H * A }, () => rng.normal());
  const t = Float32Array.from({ length: B }, (_, b) => (p === 'epsilon' ? [0, 1, 250, 731, 999][b] as number : [0, 0.1, 0.5, 0.9, 0.999][b] as number));
  return { latent, state, x, t };
}

/** Dense MMSE, independent of the eigenbasis: solves (abar Sigma + (1 - abar) I) y = r by Gaussian elimination. */
function denseEpsilon(cov: Float64Array, mu: Float64Array, x: ArrayLike<number>, ab: number): Float64Array {
  const n = mu.length;
  const M = new Float64Array(n * (n + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) M[i * (n + 1) + j] = ab * (cov[i * n + j] as number) + (i === j ? 1 - ab : 0);
    M[i * (n + 1) + n] = (x[i] as number) - Math.sqrt(ab) * (mu[i] as number);
  }
  for (let c = 0; c < n; c++) {
    const p = M[c * (n + 1) + c] as number;
    for (let r = c + 1; r < n; r++) {
      const f = (M[r * (n + 1) + c] as number) / p;
      for (let k = c; k <= n; k++) M[r * (n + 1) + k] = (M[r * (n + 1) + k] as number) - f * (M[c * (n + 1) + k] as number);
    }
  }
  const y = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r * (n + 1) + n] as number;
    for (let k = r + 1; k < n; k++) s -= (M[r * (n + 1) + k] as number) * (y[k] as number);
    y[r] = s / (M[r * (n + 1) + r] as number);
  }
  return y.map((v) => v * Math.sqrt(1 - ab));
}

describe('reference decoder', () => {
  it('TS closed form matches a dense solve (epsilon)', () => {
    const m = referenceModel(base('epsilon'));
    const rng = new SeededRng(3);
    const { latent, state, x } = randomInputs(rng, 'epsilon');
    const lat = latent.subarray(0, A + 1), st = state.subarray(0, A), xx = x.subarray(0, H * A);
    const d = referenceDistribution(lat, st, m);
    for (const k of [0, 100, 500, 999]) {
      const ab = m.alphaBar?.[k] as number;
      expect(maxAbsDiff(referenceDenoise(m, d.mean, xx, k), denseEpsilon(d.cov, d.mean, xx, ab))).toBeLessThan(1e-8);
    }
  });

  for (const p of ['epsilon', 'velocity'] as const) {
    it(`ONNX output equals the TS closed form (${p})`, async () => {
      const opts = base(p);
      const bytes = buildReferenceDecoder(opts);
      const m = referenceModel(opts);
      const { latent, state, x, t } = randomInputs(new SeededRng(p === 'epsilon' ? 1 : 2), p);
      const r = await runOnnx(bytes, {
        [InputName.LATENT]: { data: latent, dims: [B, A + 1] },
        [InputName.STATE]: { data: state, dims: [B, A] },
        [InputName.X_T]: { data: x, dims: [B, H, A] },
        [InputName.T]: { data: t, dims: [B] },
      }, OutputName.OUT);
      expect(r.dims).toEqual([B, H, A]);
      for (let b = 0; b < B; b++) {
        const mu = referenceMean(m, latent.subarray(b * (A + 1), (b + 1) * (A + 1)), state.subarray(b * A, (b + 1) * A));
        const want = referenceDenoise(m, mu, x.subarray(b * H * A, (b + 1) * H * A), t[b] as number);
        const got = r.data.subarray(b * H * A, (b + 1) * H * A);
        const scale = Math.max(1, ...Array.from(want, Math.abs));
        expect(maxAbsDiff(got, want) / scale, `row ${b} t=${t[b]}`).toBeLessThan(2e-4);
      }
    });
  }

  it('writes the contract metadata', () => {
    const s = readModel(buildReferenceDecoder(base('epsilon')));
    expect(s.metadata[MetaKey.KIND]).toBe('denoiser');
    expect(s.metadata[MetaKey.PARAMETERIZATION]).toBe('epsilon');
    expect(s.metadata[MetaKey.LATENT_DIM]).toBe(String(A + 1));
    expect(s.metadata[MetaKey.TRAIN_STEPS]).toBe('1000');
    expect(s.metadata[MetaKey.LATENT_SPACE]).toBe('spinal.reference-goal/1');
    expect(JSON.parse(s.metadata[MetaKey.ACTION_STD] ?? '[]')).toHaveLength(A);
    expect(s.inputs.map((i) => i.name)).toEqual(['latent', 'state', 'x_t', 't']);
    expect(s.inputs[2]?.dims).toEqual(['B', H, A]);
    const v = readModel(buildReferenceDecoder(base('velocity')));
    expect(v.metadata[MetaKey.TRAIN_STEPS]).toBeUndefined();
  });

  it('mean approaches the encoded goal smoothly from the current state', () => {
    const m = referenceModel({ actionDim: A, horizon: H, parameterization: 'velocity' });
    const z = encodeGoal({ position: [0.5, -0.5, 0, 0.2, 0.9, -0.9, 0], stepsToGoal: 8 }, { center: new Array(A).fill(0), halfRange: new Array(A).fill(1) });
    const mu = referenceMean(m, z, new Float64Array(A));
    expect(mu[15 * A]).toBeCloseTo(0.5, 6); // reached and held
    expect(mu[7 * A + 4]).toBeCloseTo(0.9, 6); // reached at step 8 (index 7)
    expect(Math.abs(mu[0] as number)).toBeLessThan(0.01); // first action near the current state
  });

  for (const [p, sampler] of [['epsilon', 'ddim'], ['velocity', 'euler']] as const) {
    it(`fused ${sampler} equals a TS sampler with the closed-form denoiser`, async () => {
      const opts = base(p);
      const emitter = referenceEmitter(opts);
      const steps = 6;
      const bytes = buildFusedDecoder(emitter, { sampler, steps });
      const meta = readModel(bytes).metadata;
      expect(meta[MetaKey.KIND]).toBe('fused');
      expect(meta[MetaKey.FUSED_SAMPLER]).toBe(sampler);
      expect(meta[MetaKey.FUSED_STEPS]).toBe('6');
      const { latent, state, x: noise } = randomInputs(new SeededRng(9), p);
      const r = await runOnnx(bytes, {
        latent: { data: latent, dims: [B, A + 1] }, state: { data: state, dims: [B, A] }, noise: { data: noise, dims: [B, H, A] },
      }, OutputName.ACTIONS);
      const plan = samplerSteps(emitter.spec, sampler, steps);
      for (let b = 0; b < B; b++) {
        const mu = referenceMean(emitter.model, latent.subarray(b * (A + 1), (b + 1) * (A + 1)), state.subarray(b * A, (b + 1) * A));
        let x = Float64Array.from(noise.subarray(b * H * A, (b + 1) * H * A));
        for (const s of plan) {
          const f = referenceDenoise(emitter.model, mu, x, s.t);
          x = x.map((v, i) => s.c1 * v + s.c2 * (f[i] as number));
        }
        expect(maxAbsDiff(r.data.subarray(b * H * A, (b + 1) * H * A), x)).toBeLessThan(2e-3);
        // lands near the mean: sigma = 0.1, so within ~5 sigma (both samplers, 6 steps)
        expect(maxAbsDiff(x, mu)).toBeLessThan(0.6);
      }
    });
  }
});
