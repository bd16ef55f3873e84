/**
 * The GR00T backend against a test server that speaks GR00T's ZeroMQ protocol
 * (cloud/testing/gr00t-test-server.ts): ping on connect, the token, both request shapes (N1.5
 * flat, N1.6 nested with [action, info]), .npy arrays both ways, and each failure answered as an
 * Error naming it: wrong shapes, NaN, a reply past the deadline, a server gone mid-request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testHello, testObservation } from '../../testing/brain-test-client.js';
import { Gr00tTestServer, type Gr00tAnswer } from '../../testing/gr00t-test-server.js';
import { toFloat64, type NdArray } from '../policy-server/ndarray.js';
import type { InferRequest, InferResult } from '../backend.js';
import { createGr00tBackend, type Gr00tOptions } from './gr00t-backend.js';
import { decodeNpy, encodeNpy } from './npy.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function server(policy: (obs: Record<string, unknown>) => Gr00tAnswer, over: Partial<{ api: 'n1.5' | 'n1.6'; apiToken: string; delayMs: number | (() => number) }> = {}): Promise<Gr00tTestServer> {
  const s = await Gr00tTestServer.start({ policy, ...over });
  closers.push(() => s.close());
  return s;
}
function backend(address: string, over: Partial<Gr00tOptions> = {}) {
  const b = createGr00tBackend({ address, actionHz: 30, actions: { arm: [0, 1], gripper: [2] }, state: { arm: [0, 1], gripper: [2] }, ...over });
  closers.push(() => b.close());
  return b;
}
const hello = testHello('r1');
const request = (seq: number, state = [0, 0.5, -0.5]): InferRequest => ({
  session: { sessionId: 's1', hello }, observation: testObservation(seq, state), task: { taskId: 't', instruction: 'fold the towel' },
});
const run = async (b: ReturnType<typeof backend>, r: InferRequest, timeoutMs = 2000): Promise<InferResult> => (await b.infer([r], { signal: new AbortController().signal, timeoutMs }))[0] as InferResult;
const failure = (r: InferResult): { code: string; message: string } => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return { code: r.code, message: r.message };
};
const twoRows: Gr00tAnswer = { action: { arm: [[0.1, 0.2], [0.3, 0.4]], gripper: [[0.5], [0.6]] } };

describe('.npy', () => {
  it('round-trips with a 64-byte aligned header and names what it cannot read', () => {
    const f = Float32Array.of(1, 2, 3, 4, 5, 6);
    const b = encodeNpy({ dtype: '<f4', shape: [2, 3], data: new Uint8Array(f.buffer) });
    expect(Buffer.from(b.subarray(0, 6)).toString('latin1')).toBe('\x93NUMPY');
    expect((10 + Buffer.from(b).readUInt16LE(8)) % 64).toBe(0);
    const back = decodeNpy(b) as NdArray;
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(toFloat64(back))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(decodeNpy(Buffer.from('hello world'))).toMatch(/no \\x93NUMPY magic/);
  });
});

describe('gr00t backend', () => {
  it('N1.6: pings on connect, sends the nested observation with the token, maps the parts to joints', async () => {
    const s = await server(() => twoRows, { apiToken: 'sesame' });
    const b = backend(s.endpoint, { apiToken: 'sesame' });
    expect(b.accepts(hello)).toBeNull();
    const r = await run(b, request(1));
    if (!r.ok || r.chunk === undefined) throw new Error(`no chunk: ${JSON.stringify(r)}`);
    expect(r.chunk).toMatchObject({ rows: 2, actionDim: 3, stepUs: 33_333 });
    expect(Array.from(r.chunk.actions).map((v) => Number(v.toFixed(4)))).toEqual([0.1, 0.2, 0.5, 0.3, 0.4, 0.6]);
    expect(s.requests.map((q) => q.endpoint)).toEqual(['ping', 'get_action']);
    const obs = (s.requests[1]?.data as { observation: { state: Record<string, NdArray>; language: Record<string, unknown> } }).observation;
    expect(obs.state['arm']?.shape).toEqual([1, 1, 2]);
    expect(Array.from(toFloat64(obs.state['gripper'] as NdArray))).toEqual([-0.5]);
    expect(obs.language).toEqual({ task: [['fold the towel']] });
  });

  it('N1.5: the flat observation and a bare action map; a part missing from the reply is named', async () => {
    let answer: Gr00tAnswer = { action: { 'action.arm': [[0.1, 0.2]], 'action.gripper': [[0.5]] } };
    const s = await server(() => answer, { api: 'n1.5' });
    const b = backend(s.endpoint, { api: 'n1.5', state: { 'state.arm': [0, 1], 'state.gripper': [2] }, actions: { 'action.arm': [0, 1], 'action.gripper': [2] } });
    const r = await run(b, request(1));
    if (!r.ok || r.chunk === undefined) throw new Error(`no chunk: ${JSON.stringify(r)}`);
    expect(Array.from(r.chunk.actions).map((v) => Number(v.toFixed(4)))).toEqual([0.1, 0.2, 0.5]);
    const obs = s.requests[1]?.data as Record<string, unknown>;
    expect((obs['state.arm'] as NdArray).dtype).toBe('<f8');
    expect((obs['state.arm'] as NdArray).shape).toEqual([1, 2]);
    expect(obs['annotation.human.task_description']).toEqual(['fold the towel']);
    answer = twoRows;
    expect(failure(await run(b, request(2)))).toEqual({ code: 'BACKEND_FAILED', message: 'gr00t reply has no array "action.arm" (gr00t.actions); it has arm, gripper' });
  });

  it('a wrong token, a wrong shape and a NaN are errors that name them', async () => {
    let answer: Gr00tAnswer = twoRows;
    const s = await server(() => answer, { apiToken: 'sesame' });
    expect(failure(await run(backend(s.endpoint, { apiToken: 'wrong' }), request(1)))).toEqual({ code: 'BACKEND_FAILED', message: `the gr00t server at ${s.endpoint} failed: Unauthorized: Invalid API token` });
    const b = backend(s.endpoint, { apiToken: 'sesame' });
    answer = { action: { arm: [[0.1, 0.2, 0.3]], gripper: [[0.5]] } };
    expect(failure(await run(b, request(2)))).toEqual({ code: 'BACKEND_FAILED', message: 'gr00t reply "arm" has shape [1, 1, 3]; gr00t.actions["arm"] maps 2 columns (expected [1, rows, 2])' });
    answer = { action: { arm: [[0.1, Number.NaN]], gripper: [[0.5]] } };
    expect(failure(await run(b, request(3)))).toEqual({ code: 'BACKEND_FAILED', message: 'gr00t reply actions[0][1] (joint 1) is NaN' });
    answer = { raise: "KeyError: 'video.front'" };
    expect(failure(await run(b, request(4)))).toEqual({ code: 'BACKEND_FAILED', message: `the gr00t server at ${s.endpoint} failed: KeyError: 'video.front'` });
  });

  it('a reply past the deadline is BACKEND_TIMEOUT; a server gone mid-request too; after it returns the next request reconnects', async () => {
    let hang = false;
    const s = await server(() => (hang ? { hang: true } : twoRows));
    const b = backend(s.endpoint);
    expect((await run(b, request(1))).ok).toBe(true);
    hang = true;
    expect(failure(await run(b, request(2), 150))).toEqual({ code: 'BACKEND_TIMEOUT', message: `the gr00t server at ${s.endpoint} did not answer within the 150 ms deadline` });
    hang = false;
    await s.restart();
    await new Promise((r) => setTimeout(r, 150)); // the back-off after one failure
    const r = await run(b, request(3));
    expect(r.ok).toBe(true);
    expect(b.counters()).toMatchObject({ timeouts: 1, reconnects: 1 });
  });

  it('an unreachable server fails the ping, named; accepts() names a joint no part covers', async () => {
    const b = backend('tcp://127.0.0.1:9', { connectTimeoutMs: 100 });
    expect(failure(await run(b, request(1), 300)).message).toBe('cannot reach the gr00t server at tcp://127.0.0.1:9: no answer to ping within 100 ms');
    expect(backend('tcp://127.0.0.1:9', { actions: { arm: [0, 1] } }).accepts(hello)).toBe('gr00t.actions names joint 2 0 times; each of the robot\'s 3 joints must come from exactly one action column');
  });
});
