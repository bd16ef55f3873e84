import { describe, expect, it } from 'vitest';
import { readModel } from '../../../proto/onnx/index.js';
import { MetaKey, OutputName, type Parameterization } from '../contract.js';
import { ditEmitter, buildDitDecoder, type DitDecoderOptions } from './dit-decoder.js';
import { DIT_PRESETS, ditParameterCount } from './dit-presets.js';
import { buildFusedDecoder, samplerSteps } from './fused-decoder.js';
import { SeededRng } from './rng.js';
import { maxAbsDiff, runOnnx } from './test-helpers.js';

const A = 7, H = 16, Dz = 8, B = 3;
const tiny = (p: Parameterization, extra: Partial<DitDecoderOptions> = {}): DitDecoderOptions => ({
  actionDim: A, stateDim: A, latentDim: Dz, horizon: H, width: 64, depth: 2, heads: 4, parameterization: p, seed: 7,
  timeEmbedDim: 32, ...extra,
});
const dims = { actionDim: A, stateDim: A, latentDim: Dz, horizon: H };

function inputs(seed: number) {
  const rng = new SeededRng(seed);
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
  return { latent: f(B * Dz), state: f(B * A), x: f(B * H * A) };
}

/** Parameters actually written: every initializer except anonymous constants (c_N, i_N). */
function writtenParams(bytes: Uint8Array): number {
  return readModel(bytes).initializers
    .filter((t) => t.dataType === 1 && !/^[ci]_\d+$/.test(t.name))
    .reduce((s, t) => s + t.dims.reduce((a, d) => a * d, 1), 0);
}

describe('DiT decoder', () => {
  for (const modulation of ['adaln-zero', 'adaln-attn'] as const) {
    it(`runs with output [B, H, A], finite and input-dependent (${modulation})`, async () => {
      const o = tiny('velocity', { modulation, registerTokens: modulation === 'adaln-attn' ? 3 : 0 });
      const bytes = buildDitDecoder(o);
      expect(writtenParams(bytes)).toBe(ditEmitter(o).parameterCount);
      const { latent, state, x } = inputs(1);
      const feeds = {
        latent: { data: latent, dims: [B, Dz] }, state: { data: state, dims: [B, A] },
        x_t: { data: x, dims: [B, H, A] }, t: { data: Float32Array.from([0, 0.5, 0.9]), dims: [B] },
      };
      const r = await runOnnx(bytes, feeds, OutputName.OUT);
      expect(r.dims).toEqual([B, H, A]);
      expect(r.data.every(Number.isFinite)).toBe(true);
      const rms = Math.sqrt(r.data.reduce((s, v) => s + v * v, 0) / r.data.length);
      expect(rms).toBeGreaterThan(0.05);
      expect(rms).toBeLessThan(20);
      const r2 = await runOnnx(bytes, { ...feeds, t: { data: Float32Array.from([0.1, 0.5, 0.9]), dims: [B] } }, OutputName.OUT);
      expect(maxAbsDiff(r.data.subarray(0, H * A), r2.data.subarray(0, H * A))).toBeGreaterThan(1e-4); // time matters
      expect(maxAbsDiff(r.data.subarray(H * A), r2.data.subarray(H * A))).toBeLessThan(1e-5); // rows independent
    });
  }

  it('is reproducible from its seed and writes metadata', () => {
    const a = buildDitDecoder(tiny('epsilon'));
    expect(Buffer.from(a).equals(Buffer.from(buildDitDecoder(tiny('epsilon'))))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(buildDitDecoder(tiny('epsilon', { seed: 8 }))))).toBe(false);
    const m = readModel(a).metadata;
    expect(m[MetaKey.KIND]).toBe('denoiser');
    expect(m[MetaKey.LATENT_DIM]).toBe(String(Dz));
    expect(m[MetaKey.BETA_SCHEDULE]).toBe('linear');
  });

  it('presets sit within 10% of their nominal sizes (formula checked against a built model above)', () => {
    for (const [name, p] of Object.entries(DIT_PRESETS)) {
      const n = ditParameterCount(p, dims);
      expect(Math.abs(n / p.nominalParams - 1), name).toBeLessThan(0.1);
    }
  });

  it('builds dit-s with the counted parameters', () => {
    const o = { ...tiny('epsilon'), ...DIT_PRESETS['dit-s'] };
    const bytes = buildDitDecoder(o);
    expect(writtenParams(bytes)).toBe(ditParameterCount(o, dims));
    expect(bytes.byteLength).toBeGreaterThan(4 * ditParameterCount(o, dims));
  });

  it('fused DDIM equals the same steps through the denoiser model', async () => {
    const o = tiny('epsilon');
    const emitter = ditEmitter(o);
    const fused = buildFusedDecoder(emitter, { sampler: 'ddim', steps: 3 });
    const step = buildDitDecoder(o);
    const { latent, state, x: noise } = inputs(2);
    const cond = { latent: { data: latent, dims: [B, Dz] }, state: { data: state, dims: [B, A] } };
    const got = await runOnnx(fused, { ...cond, noise: { data: noise, dims: [B, H, A] } }, OutputName.ACTIONS);
    let x = Float32Array.from(noise);
    for (const s of samplerSteps(emitter.spec, 'ddim', 3)) {
      const f = await runOnnx(step, { ...cond, x_t: { data: x, dims: [B, H, A] }, t: { data: new Float32Array(B).fill(s.t), dims: [B] } }, OutputName.OUT);
      x = x.map((v, i) => s.c1 * v + s.c2 * (f.data[i] as number));
    }
    expect(maxAbsDiff(got.data, x)).toBeLessThan(1e-3);
  });
});
