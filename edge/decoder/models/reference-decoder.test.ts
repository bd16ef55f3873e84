import { describe, expect, it } from 'vitest';
import { readModel } from '../../../proto/onnx/index.js';
import { encodeGoal, minimumJerk } from '../../../proto/latent/reference-goal.js';
import { InputName, MetaKey, OutputName, type Parameterization } from '../contract.js';
import { samplerSteps } from './fused-decoder.js';
import { buildFusedDecoder } from './fused-decoder.js';
import { buildReferenceDecoder, referenceEmitter } from './reference-decoder.js';
import {
  referenceDenoise, referenceDistribution, referenceGain, referenceMean, referenceModel, type ReferenceDecoderOptions,
} from './reference-distribution.js';
import { SeededRng } from './rng.js';
import { maxAbsDiff, runOnnx } from './test-helpers.js';

const A = 7, H = 16, B = 5, Z = 2 * A + 1;
const base = (p: Parameterization): ReferenceDecoderOptions => ({
  actionDim: A, horizon: H, parameterization: p,
  actionMean: [0, 0.1, -0.2, 0, 0.3, 0, 0.01], actionStd: [1, 1.5, 2, 1, 0.5, 1, 0.02],
  stateMean: [0, 0.1, -0.2, 0, 0.3, 0, 0.01], stateStd: [1, 1.5, 2, 1, 0.5, 1, 0.02],
  sigma: 0.1,
});

function randomInputs(rng: SeededRng, p: Parameterization) {
  // Goals and starts beyond the clip range too; row 0 holds (start = goal = state), so the gain
  // is 0 there and the output is the mean's.
  const latent = Float32Array.from({ length: B * Z }, (_, i) => (i % Z === A ? rng.normal() : 1.4 * (rng.next() * 2 - 1)));
  const state = Float32Array.from({ length: B * A }, () => rng.normal());
  for (let j = 0; j < A; j++) latent[A + 1 + j] = latent[j] as number;
  // (the graph reads the state normalised, with the action's statistics here: state = goal)
  for (let j = 0; j < A; j++) state[j] = Math.min(1, Math.max(-1, latent[j] as number));
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
    for (const b of [0, 1, 2]) {
      const lat = latent.subarray(b * Z, (b + 1) * Z), st = state.subarray(b * A, (b + 1) * A), xx = x.subarray(b * H * A, (b + 1) * H * A);
      const d = referenceDistribution(lat, st, m);
      for (const k of [0, 100, 500, 999]) {
        const ab = m.alphaBar?.[k] as number;
        expect(maxAbsDiff(referenceDenoise(m, d.mean, d.gain, xx, k), denseEpsilon(d.cov, d.mean, xx, ab))).toBeLessThan(1e-8);
      }
    }
  });

  for (const p of ['epsilon', 'velocity'] as const) {
    it(`ONNX output equals the TS closed form (${p})`, async () => {
      const opts = base(p);
      const bytes = buildReferenceDecoder(opts);
      const m = referenceModel(opts);
      const { latent, state, x, t } = randomInputs(new SeededRng(p === 'epsilon' ? 1 : 2), p);
      const r = await runOnnx(bytes, {
        [InputName.LATENT]: { data: latent, dims: [B, Z] },
        [InputName.STATE]: { data: state, dims: [B, A] },
        [InputName.X_T]: { data: x, dims: [B, H, A] },
        [InputName.T]: { data: t, dims: [B] },
      }, OutputName.OUT);
      expect(r.dims).toEqual([B, H, A]);
      for (let b = 0; b < B; b++) {
        const lat = latent.subarray(b * Z, (b + 1) * Z), st = state.subarray(b * A, (b + 1) * A);
        const want = referenceDenoise(m, referenceMean(m, lat, st), referenceGain(m, lat, st), x.subarray(b * H * A, (b + 1) * H * A), t[b] as number);
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
    expect(s.metadata[MetaKey.LATENT_DIM]).toBe(String(2 * A + 1));
    expect(s.metadata[MetaKey.TRAIN_STEPS]).toBe('1000');
    expect(s.metadata[MetaKey.LATENT_SPACE]).toBe('spinal.reference-goal/2');
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
        latent: { data: latent, dims: [B, Z] }, state: { data: state, dims: [B, A] }, noise: { data: noise, dims: [B, H, A] },
      }, OutputName.ACTIONS);
      const plan = samplerSteps(emitter.spec, sampler, steps);
      for (let b = 0; b < B; b++) {
        const lat = latent.subarray(b * Z, (b + 1) * Z), st = state.subarray(b * A, (b + 1) * A);
        const mu = referenceMean(emitter.model, lat, st);
        const gain = referenceGain(emitter.model, lat, st);
        let x = Float64Array.from(noise.subarray(b * H * A, (b + 1) * H * A));
        for (const s of plan) {
          const f = referenceDenoise(emitter.model, mu, gain, x, s.t);
          x = x.map((v, i) => s.c1 * v + s.c2 * (f[i] as number));
        }
        expect(maxAbsDiff(r.data.subarray(b * H * A, (b + 1) * H * A), x)).toBeLessThan(2e-3);
        // lands near the mean: sigma = 0.1, so within ~5 sigma (both samplers, 6 steps)
        expect(maxAbsDiff(x, mu)).toBeLessThan(0.6);
      }
      // a held pose (row 0: start = goal = state) has no spread: the sample is the mean
      const lat0 = latent.subarray(0, Z), st0 = state.subarray(0, A);
      expect(maxAbsDiff(r.data.subarray(0, H * A), referenceMean(emitter.model, lat0, st0))).toBeLessThan(1e-3);
    });
  }

  it('a plan decoded again from a robot that followed it continues the same path', () => {
    const m = referenceModel({ actionDim: A, horizon: H, parameterization: 'velocity' });
    const range = { center: new Array(A).fill(0), halfRange: new Array(A).fill(1) };
    const from = [0.4, -0.2, 0, 0.1, -0.8, 0.8, 0.3], goal = [-0.5, 0.5, 0, 0.2, 0.9, -0.9, 0.3];
    const T = 40;
    const z = encodeGoal({ position: goal, stepsToGoal: T, from }, range);
    const path = (k: number, j: number): number => (from[j] as number) + ((goal[j] as number) - (from[j] as number)) * minimumJerk(k / T);
    for (const k of [0, 5, 17, 33]) {
      const mu = referenceMean(m, z, Float64Array.from({ length: A }, (_, j) => path(k, j)));
      for (let h = 0; h < H; h++) for (let j = 0; j < A; j++) expect(mu[h * A + j], `k ${k} h ${h} j ${j}`).toBeCloseTo(path(k + h + 1, j), 3);
    }
    // a robot behind the path (by a tenth of the way on joint 4) is brought back to it, never away
    const behind = Float64Array.from({ length: A }, (_, j) => path(20, j) - (j === 4 ? 0.17 : 0));
    const mu = referenceMean(m, z, behind);
    expect(Math.abs((mu[(H - 1) * A + 4] as number) - path(20 + H, 4))).toBeLessThan(0.17);
  });

  it('spread vanishes at a reached goal and grows with the travel left', () => {
    const m = referenceModel({ actionDim: A, horizon: H, parameterization: 'velocity', travelScale: 0.25 });
    const range = { center: new Array(A).fill(0), halfRange: new Array(A).fill(1) };
    const goal = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const z = encodeGoal({ position: goal, stepsToGoal: 30, from: new Array(A).fill(0) }, range);
    expect([...referenceGain(m, z, goal)]).toEqual(new Array(A).fill(0));
    const g = referenceGain(m, z, [0.5, 0.45, 0.4, 0.3, 0.2, 0, -0.5]);
    [0, 0.2, 0.4, 0.8, 1, 1, 1].forEach((v, j) => expect(g[j]).toBeCloseTo(v, 9));
    // and at the chunk's start: the envelope's first row is a few percent of the full std
    const d = referenceDistribution(z, new Array(A).fill(0), m);
    const n = H * A;
    expect(Math.sqrt(d.cov[0] as number)).toBeLessThan(0.1 * Math.sqrt(d.cov[(H - 1) * A * n + (H - 1) * A] as number));
  });
});
