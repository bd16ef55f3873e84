import { afterEach, describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { BrainServer } from '../../brain/brain-server.js';
import { TestSession, brainClient, testHello, testObservation } from '../../testing/brain-test-client.js';
import { startKserveTestServer, type KserveTestServer } from '../../testing/kserve-test-server.js';
import type { InferRequest } from '../backend.js';
import { embedInstruction } from '../instruction-embedding.js';
import { TritonBackend, TritonBackendError } from './triton-backend.js';

const SPACE = 'acme.vla/2';
const S = 3, E = 8, D = 4;

/** latent[k] = sum(state) * (k + 1) + instruction[k] */
const model = {
  name: 'vla',
  inputs: [{ name: 'state', datatype: 'FP32', shape: [-1, S] }, { name: 'instruction', datatype: 'FP32', shape: [-1, E] }],
  outputDim: D,
  run(row: Record<string, Float32Array>): Float32Array {
    const s = (row['state'] ?? new Float32Array(S)).reduce((a, b) => a + b, 0);
    return Float32Array.from({ length: D }, (_, k) => s * (k + 1) + (row['instruction']?.[k] ?? 0));
  },
};
const expected = (state: number[], instruction: string): number[] => {
  const e = embedInstruction(instruction, E);
  const s = state.reduce((a, b) => a + b, 0);
  return Array.from({ length: D }, (_, k) => s * (k + 1) + (e[k] as number));
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function kserve(): Promise<KserveTestServer> {
  const s = await startKserveTestServer(model);
  cleanups.push(() => s.close());
  return s;
}

function req(robot: string, state: number[], instruction: string): InferRequest {
  return { session: { sessionId: robot, hello: testHello(robot, { latentSpace: SPACE }) }, observation: testObservation(1, state), task: { taskId: 't', instruction } };
}

const ctx = { signal: new AbortController().signal, timeoutMs: 2000 };

describe('Triton backend against an in-test KServe v2 server', () => {
  for (const [label, rawContents, replyRaw] of [['raw in, raw out', true, true], ['typed in, typed out', false, false], ['typed in, raw out', false, true]] as const) {
    it(`answers a batch, each robot its own latent (${label})`, async () => {
      const srv = await kserve();
      srv.replyRaw = replyRaw;
      const b = await TritonBackend.connect({ address: srv.address, model: 'vla', latentSpace: SPACE, rawContents });
      cleanups.push(() => b.close());
      expect(b.contract).toMatchObject({ latentDim: D, stateDim: S, instructionDim: E, image: null });
      const out = await b.infer([req('a', [0.1, 0.2, 0.3], 'wave'), req('b', [1, 1, 1], 'go home')], ctx);
      expect(srv.requests).toHaveLength(1);
      expect(srv.requests[0]?.rawInputContents.length).toBe(rawContents ? 2 : 0);
      [expected([0.1, 0.2, 0.3], 'wave'), expected([1, 1, 1], 'go home')].forEach((want, i) => {
        const r = out[i];
        if (r?.ok !== true) throw new Error('no latent');
        Array.from(r.latent).forEach((v, k) => expect(v).toBeCloseTo(want[k] as number, 5));
      });
    });
  }

  it('refuses to start when the model is unknown or not ready, naming the server', async () => {
    const srv = await kserve();
    await expect(TritonBackend.connect({ address: srv.address, model: 'nope', latentSpace: SPACE })).rejects.toThrow(/unknown model/);
    srv.ready = false;
    await expect(TritonBackend.connect({ address: srv.address, model: 'vla', latentSpace: SPACE })).rejects.toThrow(TritonBackendError);
  });

  it('serves robots end to end through the brain server', async () => {
    const srv = await kserve();
    const backend = await TritonBackend.connect({ address: srv.address, model: 'vla', latentSpace: SPACE });
    const brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend, drainTimeoutMs: 1000 });
    cleanups.push(() => brain.stop());
    const client = brainClient(`127.0.0.1:${brain.port}`);
    cleanups.push(() => (client as grpc.Client).close());
    const s = new TestSession(client);
    s.hello(testHello('r1', { latentSpace: SPACE, latentDim: D }));
    expect((await s.next('welcome')).welcome.backend).toBe('triton');
    s.observe(testObservation(3, [0.5, 0, 0]));
    const { plan } = await s.next('plan');
    expect(plan.observationSeq).toBe(3);
    expected([0.5, 0, 0], '').forEach((v, k) => expect(plan.latent[k]).toBeCloseTo(v, 5));
  });
});
