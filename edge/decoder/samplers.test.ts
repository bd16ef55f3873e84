/** Samplers and the decoder core over a pure-TS denoiser (no ONNX), and the schedules (which the
 * model toolchain's fused graphs bake in too, so fused and step-by-step agree). */
import { describe, expect, it } from 'vitest';
import type { DecoderSpec } from './contract.js';
import { DecoderCore } from './decoder-core.js';
import { alphasCumprod, ddimTimesteps, flowTimes } from './noise-schedule.js';
import { GaussianDenoiser } from './testing/gaussian-denoiser.js';

function spec(parameterization: 'epsilon' | 'velocity'): DecoderSpec {
  const eps = parameterization === 'epsilon';
  return {
    name: 'fake', kind: 'denoiser', parameterization, horizon: 8, actionDim: 2, latentDim: 1, stateDim: 1, defaultSteps: 10,
    trainSteps: eps ? 1000 : null, betaSchedule: eps ? 'linear' : null, betaStart: eps ? 1e-4 : null, betaEnd: eps ? 0.02 : null,
    fusedSampler: null, fusedSteps: null, actionMean: new Float32Array([1, -1]), actionStd: new Float32Array([2, 0.5]),
    stateMean: new Float32Array(1), stateStd: new Float32Array([1]), latentSpace: 'test/1', supportsPrefix: false,
  };
}

describe('schedules', () => {
  it('abar of each schedule: known end points, strictly decreasing', () => {
    const lin = alphasCumprod({ schedule: 'linear', trainSteps: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    expect(lin[0]).toBeCloseTo(1 - 1e-4, 12);
    expect(lin[999]).toBeCloseTo(4.035e-5, 7);
    const sl = alphasCumprod({ schedule: 'scaled_linear', trainSteps: 1000, betaStart: 0.00085, betaEnd: 0.012 });
    expect(sl[0]).toBeCloseTo(1 - 0.00085, 12);
    const cos = alphasCumprod({ schedule: 'cosine', trainSteps: 1000, betaStart: 0, betaEnd: 0 });
    const f = (u: number): number => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(cos[499]).toBeCloseTo(f(0.5) / f(0), 9);
    for (const a of [lin, sl, cos]) for (let k = 1; k < 1000; k++) expect(a[k]).toBeLessThan(a[k - 1] as number);
  });

  it('DDIM timesteps are trailing; flow times are uniform', () => {
    expect(Array.from(ddimTimesteps(1000, 4))).toEqual([999, 749, 499, 249]);
    expect(Array.from(ddimTimesteps(1000, 1))).toEqual([999]);
    expect(Array.from(ddimTimesteps(100, 3))).toEqual([99, 66, 32]);
    expect(Array.from(flowTimes(4))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(() => ddimTimesteps(10, 11)).toThrow(RangeError);
  });
});

describe('decoder core over a pure-TS denoiser', () => {
  const B = 400;
  it.each([['epsilon', 'ddim'], ['epsilon', 'ddpm'], ['velocity', 'euler'], ['velocity', 'heun']] as const)(
    '%s %s: seeded, the evaluation count, the prefix exact, the mean de-normalised', async (p, sampler) => {
      const s = spec(p);
      const abar = p === 'epsilon' ? alphasCumprod({ schedule: 'linear', trainSteps: 1000, betaStart: 1e-4, betaEnd: 0.02 }) : null;
      const den = new GaussianDenoiser(p, B, 8, 2, 0.5, 1, abar);
      const core = new DecoderCore(s, { kind: 'denoiser', denoiser: den });
      const req = { latent: new Float32Array(1), state: new Float32Array(1), seed: 9, sampler, steps: 20 };
      const a = await core.decode(req, () => false);
      const first = a.status === 'done' ? a.actions.slice() : new Float32Array();
      expect(den.calls).toBe(sampler === 'heun' ? 39 : 20);
      const b = await core.decode(req, () => false);
      expect(b.status === 'done' && Array.from(b.actions)).toEqual(Array.from(first));
      // Mean of the normalised data is 0.5: actions average 0.5 * std + mean per dim.
      let m0 = 0, m1 = 0;
      for (let i = 0; i < first.length; i += 2) { m0 += first[i] as number; m1 += first[i + 1] as number; }
      expect(m0 / (first.length / 2)).toBeCloseTo(0.5 * 2 + 1, 1);
      expect(m1 / (first.length / 2)).toBeCloseTo(0.5 * 0.5 - 1, 1);
      const prefix = new Float32Array([3, -2, 3.1, -2.1, 3.2, -2.2]);
      const c = await core.decode({ ...req, prefix: { actions: prefix, committed: 2 } }, () => false);
      expect(c.status).toBe('done');
      const actions = c.status === 'done' ? c.actions : new Float32Array();
      for (let bi = 0; bi < B; bi++) for (let i = 0; i < 4; i++) expect(actions[bi * 16 + i]).toBe(prefix[i]);
    });

  it('stops between steps when asked, reporting the evaluations made', async () => {
    const den = new GaussianDenoiser('velocity', 1, 8, 2, 0, 1, null);
    const core = new DecoderCore(spec('velocity'), { kind: 'denoiser', denoiser: den });
    const r = await core.decode({ latent: new Float32Array(1), state: new Float32Array(1), steps: 50 }, () => den.calls >= 3);
    expect(r).toEqual({ status: 'stopped', evaluations: 3 });
  });

  it('refuses a sampler of the other parameterisation and out-of-range steps', async () => {
    const core = new DecoderCore(spec('velocity'), { kind: 'denoiser', denoiser: new GaussianDenoiser('velocity', 1, 8, 2, 0, 1, null) });
    const base = { latent: new Float32Array(1), state: new Float32Array(1) };
    await expect(core.decode({ ...base, sampler: 'ddim' }, () => false)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/ddim integrates epsilon models/) });
    await expect(core.decode({ ...base, steps: 0 }, () => false)).rejects.toMatchObject({ code: 'bad-request' });
    await expect(core.decode({ latent: new Float32Array(3), state: new Float32Array(1) }, () => false)).rejects.toMatchObject({ message: expect.stringMatching(/latent has 3 values, expected 1/) });
  });
});
