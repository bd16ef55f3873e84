import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import type { CameraFrame } from '../../../proto/brain/index.js';
import type { InferRequest } from '../backend.js';
import { embedInstruction, fnv1a32 } from '../instruction-embedding.js';
import { testHello, testObservation } from '../../testing/brain-test-client.js';
import { tinyPolicyModel } from '../../testing/tiny-policy-model.js';
import { GraphBuilder } from '../../../proto/onnx/index.js';
import { OnnxBackend, OnnxBackendError } from './onnx-backend.js';

const SPACE = 'acme.policy/1';

function grayJpeg(level: number, w = 16, h = 12): CameraFrame {
  const data = Buffer.alloc(w * h * 4, level);
  const enc = jpeg.encode({ data, width: w, height: h }, 95);
  return { cameraId: 'wrist', encoding: 'jpeg', data: enc.data, width: w, height: h, captureTimeUs: 0 };
}

function request(robot: string, state: number[], instruction: string, frames: CameraFrame[] = []): InferRequest {
  return {
    session: { sessionId: robot, hello: testHello(robot, { latentSpace: SPACE, latentDim: 5 }) },
    observation: testObservation(1, state, { frames }),
    task: { taskId: 't', instruction },
  };
}

const ctx = { signal: new AbortController().signal, timeoutMs: 1000 };

describe('instruction embedding', () => {
  it('is the documented signed hashing bag of words', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c); // the FNV-1a test vector
    const v = embedInstruction('Wave, wave!', 16);
    const h = fnv1a32('wave');
    expect(v[h % 16]).toBeCloseTo(h >= 2 ** 31 ? -1 : 1, 6); // two equal tokens, normalised
    expect(embedInstruction('', 8).every((x) => x === 0)).toBe(true);
  });
});

describe('ONNX backend', () => {
  const model = tinyPolicyModel({ stateDim: 3, instructionDim: 16, latentDim: 5, image: { height: 8, width: 8 }, latentSpace: SPACE });

  it('reads the contract from the model and accepts only robots it fits', async () => {
    const b = await OnnxBackend.load({ model: model.bytes });
    expect(b.contract).toEqual({ latentSpace: SPACE, latentDim: 5, stateDim: 3, instructionDim: 16, image: { height: 8, width: 8 } });
    expect(b.accepts(testHello('r', { latentSpace: SPACE, latentDim: 5 }))).toBeNull();
    expect(b.accepts(testHello('r', { latentSpace: SPACE, latentDim: 4 }))).toMatch(/latent_dim 5/);
    expect(b.accepts(testHello('r', { latentDim: 5 }))).toMatch(/"acme.policy\/1"/);
    await b.close();
  });

  it('answers each request of a batch with its own latent (state, instruction and image all count)', async () => {
    const b = await OnnxBackend.load({ model: model.bytes });
    const batch = [
      request('a', [0.1, 0.2, 0.3], 'wave', [grayJpeg(255)]),
      request('b', [-1, 0, 1], 'go home', [grayJpeg(0)]),
      request('c', [0, 0, 0], 'wave'),
    ];
    const out = await b.infer(batch, ctx);
    // gray 255 -> (1 - 0.5)/0.5 = 1; gray 0 -> -1; no frame -> zeros
    const expected = [
      model.reference([0.1, 0.2, 0.3], embedInstruction('wave', 16), 1),
      model.reference([-1, 0, 1], embedInstruction('go home', 16), -1),
      model.reference([0, 0, 0], embedInstruction('wave', 16), 0),
    ];
    out.forEach((r, i) => {
      if (!r.ok) throw new Error(r.message);
      Array.from(r.latent).forEach((v, k) => expect(v).toBeCloseTo(expected[i]?.[k] as number, 2));
    });
    await b.close();
  });

  it('refuses a frame it cannot decode for that robot only', async () => {
    const b = await OnnxBackend.load({ model: model.bytes });
    const png = { ...grayJpeg(10), encoding: 'png' };
    const out = await b.infer([request('a', [0, 0, 0], 'x', [png]), request('b', [0, 0, 0], 'x')], ctx);
    expect(out[0]).toMatchObject({ ok: false, code: 'BAD_OBSERVATION', message: expect.stringMatching(/"png" is not decoded/) });
    expect(out[1]?.ok).toBe(true);
    await b.close();
  });

  it('refuses a model that does not fit the contract, naming the misfit', async () => {
    const noSpace = tinyPolicyModel({ stateDim: 3, instructionDim: 4, latentDim: 2, image: null, latentSpace: '' });
    await expect(OnnxBackend.load({ model: noSpace.bytes })).rejects.toThrow(/names no latent space/);
    await expect(OnnxBackend.load({ model: new Uint8Array([1, 2, 3]) })).rejects.toThrow(OnnxBackendError);
    const ok = await OnnxBackend.load({ model: noSpace.bytes, latentSpace: 'x/1' });
    expect(ok.contract.image).toBeNull();
    await ok.close();
  });

  it('runs the model off the event loop: timers keep firing during a long run', async () => {
    const N = 1024, LAYERS = 8, B = 256;
    const g = new GraphBuilder({ name: 'heavy' });
    g.metadata('spinal.latent_space', SPACE);
    let h = g.input('state', ['B', N]);
    for (let i = 0; i < LAYERS; i++) h = g.op('Tanh', [g.op('MatMul', [h, g.initFloat(`w${i}`, [N, N], new Float32Array(N * N).fill(1 / N))])]);
    g.op('Identity', [h], {}, 'latent');
    g.output('latent', ['B', N]);
    const b = await OnnxBackend.load({ model: g.toBytes() });
    const hello = testHello('r', { latentSpace: SPACE, latentDim: N, stateDim: N });
    const batch = Array.from({ length: B }, (_, i): InferRequest => ({
      session: { sessionId: `s${i}`, hello }, observation: testObservation(1, new Array<number>(N).fill(0.5)), task: { taskId: '', instruction: '' },
    }));
    let done = false;
    // A generous deadline: this is about the event loop, not about deadlines (ort-worker-deadline.test.ts).
    const run = b.infer(batch, { signal: new AbortController().signal, timeoutMs: 120_000 }).finally(() => { done = true; });
    let turns = 0;
    while (!done) { await new Promise((r) => setTimeout(r, 0)); turns++; }
    const out = await run;
    expect(out).toHaveLength(B);
    expect(out.every((r) => r.ok)).toBe(true);
    // A run on the calling thread would leave at most a turn or two; the worker leaves dozens.
    expect(turns).toBeGreaterThan(3);
    await b.close();
  });
});
