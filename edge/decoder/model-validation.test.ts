/** Every malformed model is refused at load with a DecoderError whose code and message name the
 * mismatch; a run that produces NaN is refused, never returned as actions. */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import { MetaKey } from './contract.js';
import { DecoderError, type DecoderErrorCode } from './decoder-error.js';
import { loadDecoder } from './decoder-loader.js';
import { InThreadDecoder } from './in-thread-decoder.js';
import { robotDimsFromProfile } from './robot-dims.js';
import { TINY, tinyDenoiser, type TinyModelOptions } from './testing/tiny-models.js';

const { H, A, Dz, Ds } = TINY;

async function refusal(bytes: Uint8Array, options: Parameters<typeof loadDecoder>[1] = {}): Promise<DecoderError> {
  try {
    const d = await loadDecoder(bytes, options);
    await d.session.release();
  } catch (e) {
    if (e instanceof DecoderError) return e;
    throw e;
  }
  throw new Error('the model was accepted');
}

const CASES: [string, TinyModelOptions, DecoderErrorCode, RegExp][] = [
  ['missing contract key', { meta: { [MetaKey.CONTRACT]: undefined } }, 'missing-metadata', /spinal\.contract: missing metadata key/],
  ['missing horizon', { meta: { [MetaKey.HORIZON]: undefined } }, 'missing-metadata', /spinal\.horizon: missing/],
  ['missing action_std', { meta: { [MetaKey.ACTION_STD]: undefined } }, 'missing-metadata', /spinal\.action_std: missing/],
  ['epsilon model without train_steps', { meta: { [MetaKey.PARAMETERIZATION]: 'epsilon', [MetaKey.BETA_SCHEDULE]: 'cosine' } }, 'missing-metadata', /spinal\.train_steps: missing/],
  ['unknown contract version', { meta: { [MetaKey.CONTRACT]: 'spinal.decoder/2' } }, 'contract-version', /unknown contract version "spinal\.decoder\/2"/],
  ['unknown kind', { meta: { [MetaKey.KIND]: 'vae' } }, 'bad-metadata', /spinal\.kind: "vae" is not one of denoiser, fused/],
  ['non-integer horizon', { meta: { [MetaKey.HORIZON]: '4.5' } }, 'bad-metadata', /spinal\.horizon: "4\.5" is not an integer/],
  ['beta_end below beta_start', { meta: { [MetaKey.PARAMETERIZATION]: 'epsilon', [MetaKey.TRAIN_STEPS]: '100', [MetaKey.BETA_SCHEDULE]: 'linear', [MetaKey.BETA_START]: '0.02', [MetaKey.BETA_END]: '0.001' } }, 'bad-metadata', /spinal\.beta_end: 0\.001 is below/],
  ['fused sampler of the other parameterisation', { meta: { [MetaKey.KIND]: 'fused', [MetaKey.FUSED_SAMPLER]: 'ddim', [MetaKey.FUSED_STEPS]: '4' } }, 'bad-metadata', /spinal\.fused_sampler: ddim integrates a epsilon model/],
  ['action_mean of the wrong length', { meta: { [MetaKey.ACTION_MEAN]: '[0, 0]' } }, 'bad-normalisation', /spinal\.action_mean: has 2 values, expected 3/],
  ['action_std not JSON', { meta: { [MetaKey.ACTION_STD]: '1,1,1' } }, 'bad-normalisation', /spinal\.action_std: "1,1,1" is not a JSON array/],
  ['state_std zero', { meta: { [MetaKey.STATE_STD]: '[1, 0, 1]' } }, 'bad-normalisation', /spinal\.state_std: value 1 is 0; a standard deviation must be > 0/],
  ['action_mean overflowing float32', { meta: { [MetaKey.ACTION_MEAN]: '[0, 1e39, 0]' } }, 'bad-normalisation', /spinal\.action_mean: value 1 is 1e\+39, not finite in float32/],
  ['missing input t', { inputs: [{ name: 'latent', dims: ['B', Dz] }, { name: 'state', dims: ['B', Ds] }, { name: 'x_t', dims: ['B', H, A] }] }, 'io-mismatch', /model input "t" is missing/],
  ['extra input', { inputs: [{ name: 'latent', dims: ['B', Dz] }, { name: 'state', dims: ['B', Ds] }, { name: 'x_t', dims: ['B', H, A] }, { name: 't', dims: ['B'] }, { name: 'prefix', dims: ['B', H, A] }] }, 'io-mismatch', /declares input "prefix" that the contract does not feed \(prefix inputs need spinal\.supports_prefix=true\)/],
  ['wrong output name', { output: { name: 'eps', dims: ['B', H, A] } }, 'io-mismatch', /model output "out" is missing .*found eps/],
  ['x_t horizon disagreeing with metadata', { inputs: [{ name: 'latent', dims: ['B', Dz] }, { name: 'state', dims: ['B', Ds] }, { name: 'x_t', dims: ['B', 8, A] }, { name: 't', dims: ['B'] }] }, 'shape-mismatch', /model input "x_t" has shape \[B, 8, 3\], but the metadata says \[B, 4, 3\]/],
  ['t of rank 2', { inputs: [{ name: 'latent', dims: ['B', Dz] }, { name: 'state', dims: ['B', Ds] }, { name: 'x_t', dims: ['B', H, A] }, { name: 't', dims: ['B', 1] }] }, 'shape-mismatch', /model input "t" has shape \[B, 1\], expected \[B\]/],
  ['conflicting fixed batch dims', { inputs: [{ name: 'latent', dims: [1, Dz] }, { name: 'state', dims: [2, Ds] }, { name: 'x_t', dims: ['B', H, A] }, { name: 't', dims: ['B'] }] }, 'shape-mismatch', /fixes batch dim 2, other inputs fix 1/],
];

describe('a model that does not fit the contract is refused at load', () => {
  it.each(CASES)('%s', async (_name, opts, code, message) => {
    const e = await refusal(tinyDenoiser(opts));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('lists every metadata problem in one message', async () => {
    const e = await refusal(tinyDenoiser({ meta: { [MetaKey.HORIZON]: undefined, [MetaKey.STATE_STD]: '[1]' } }));
    expect(e.code).toBe('missing-metadata');
    expect(e.message).toMatch(/spinal\.horizon: missing.*; spinal\.state_std: has 1 values, expected 3/);
  });

  it('refuses bytes that are not ONNX', async () => {
    const e = await refusal(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
    expect(e.code).toBe('not-onnx');
  });

  it('refuses dims that disagree with the robot profile', async () => {
    const robot = robotDimsFromProfile(getProfile('arm6-gripper'));
    const e = await refusal(tinyDenoiser(), { robot });
    expect(e.code).toBe('robot-mismatch');
    expect(e.message).toMatch(new RegExp(`spinal\\.action_dim is 3, but robot arm6-gripper has ${robot.actionDim} joints`));
    const e2 = await refusal(tinyDenoiser(), { robot: { robot: 'r', actionDim: A, stateDim: 7 } });
    expect(e2.message).toMatch(/spinal\.state_dim is 3, but robot r provides a state of 7/);
  });

  it('accepts the well-formed tiny model and reports the provider actually used after fallback', async () => {
    const d = await loadDecoder(tinyDenoiser(), { providers: ['tensorrt', 'cuda', 'cpu'], robot: { robot: 'r', actionDim: A, stateDim: Ds } });
    expect(d.info.provider).toBe('cpu');
    expect(d.info.fallbacks.map((f) => f.provider)).toEqual(['tensorrt', 'cuda']);
    await d.session.release();
  });

  it('refuses a provider list where nothing loads', async () => {
    const e = await refusal(tinyDenoiser(), { providers: ['cuda'] });
    expect(e.code).toBe('session-failed');
    expect(e.message).toMatch(/cuda: /);
  });
});

describe('non-finite results', () => {
  it('a run producing NaN fails with non-finite and returns no actions', async () => {
    const d = await InThreadDecoder.load(tinyDenoiser());
    const ok = await d.decode({ latent: new Float32Array(Dz), state: new Float32Array(Ds), seed: 1 }).outcome;
    expect(ok.status).toBe('done');
    const bad = await d.decode({ latent: new Float32Array([-1, 0]), state: new Float32Array(Ds), seed: 1 }).outcome;
    expect(bad.status).toBe('failed');
    if (bad.status !== 'failed') return;
    expect(bad.error.code).toBe('non-finite');
    expect(bad.error.message).toMatch(/non-finite action \(NaN\) at batch 0, row 0, dim 0/);
    expect('actions' in bad).toBe(false);
    await d.close();
  });

  it('a request with non-finite state is refused as a bad request', async () => {
    const d = await InThreadDecoder.load(tinyDenoiser());
    const o = await d.decode({ latent: new Float32Array(Dz), state: new Float32Array([0, Infinity, 0]) }).outcome;
    expect(o.status === 'failed' && o.error.code).toBe('bad-request');
    await d.close();
  });
});
