/**
 * The openpi backend against a test server that speaks openpi's WebSocket protocol
 * (cloud/testing/openpi-test-server.ts): metadata handshake and /healthz, the observation as the
 * server decodes it, the action chunk as joint targets, and each failure (wrong shape, NaN, a slow
 * reply past the deadline, a disconnect mid-request, a server exception) answered as an Error
 * naming it; through the brain server, plans carry the chunk and an edge before 1.1 is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BrainServer } from '../../brain/brain-server.js';
import { brainClient, testHello, testObservation, TestSession } from '../../testing/brain-test-client.js';
import { goalSeeking, obsValues, OpenpiTestServer, type TestPolicyAnswer } from '../../testing/openpi-test-server.js';
import { grayJpeg } from '../../testing/test-jpegs.js';
import type { InferRequest, InferResult } from '../backend.js';
import { createOpenpiBackend, type OpenpiOptions } from './openpi-backend.js';
import { OpenpiConnection } from './openpi-client.js';

const servers: { close(): Promise<void> }[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(policy: (obs: Record<string, unknown>) => TestPolicyAnswer | Promise<TestPolicyAnswer>, delayMs?: number | (() => number)): Promise<OpenpiTestServer> {
  const s = await OpenpiTestServer.start({ policy, metadata: { policy: 'pi0-test', action_horizon: 10 }, ...(delayMs !== undefined ? { delayMs } : {}) });
  servers.push(s);
  return s;
}

function backend(url: string, over: Partial<OpenpiOptions> = {}) {
  const b = createOpenpiBackend({ url, actionHz: 50, ...over });
  closers.push(() => b.close());
  return b;
}

const hello = testHello('r1');
const request = (seq: number, state = [0, 0.5, -0.5], over: Partial<InferRequest> = {}): InferRequest => ({
  session: { sessionId: 's1', hello }, observation: testObservation(seq, state), task: { taskId: 't', instruction: 'pick up the cup' }, ...over,
});
const run = async (b: ReturnType<typeof backend>, r: InferRequest, timeoutMs = 2000): Promise<InferResult> => (await b.infer([r], { signal: new AbortController().signal, timeoutMs }))[0] as InferResult;
const failure = (r: InferResult): { code: string; message: string } => {
  if (r.ok) throw new Error('expected a failure');
  return { code: r.code, message: r.message };
};

describe('openpi backend', () => {
  it('reads the metadata first, passes /healthz, sends state as a float32 array (bin keys) and the prompt, and returns the chunk as joint targets', async () => {
    const s = await server(goalSeeking([1, 1, 1], 10, 0.05));
    const conn = await OpenpiConnection.connect(s.url, { timeoutMs: 2000 });
    expect(conn.metadata).toEqual({ policy: 'pi0-test', action_horizon: 10 });
    conn.close();
    const b = backend(s.url);
    expect(await b.health()).toBeNull();
    expect(b.planKind).toBe('action-chunk');
    const r = await run(b, request(1));
    if (!r.ok || r.chunk === undefined) throw new Error(`no chunk: ${JSON.stringify(r)}`);
    expect(r.chunk).toMatchObject({ rows: 10, actionDim: 3, stepUs: 20_000 });
    expect(Array.from(r.chunk.actions).slice(0, 3).map((v) => Number(v.toFixed(4)))).toEqual([0.05, 0.55, -0.45]);
    expect(r.chunk.policyMs).toBeGreaterThanOrEqual(0);
    expect(r.latent).toEqual([]);
    const got = s.received[0] as Record<string, unknown>;
    expect(Array.from(obsValues(got, 'state'))).toEqual([0, 0.5, -0.5]);
    expect((got['state'] as { dtype: string }).dtype).toBe('<f4');
    expect(got['prompt']).toBe('pick up the cup');
  });

  it('maps state keys, cameras (decoded to uint8 HxWx3 of the configured size) and action columns', async () => {
    const s = await server(() => ({ actions: [[9, 0.1, 0.2, 0.3, 7], [9, 0.2, 0.3, 0.4, 7]] }));
    const b = backend(s.url, {
      state: { 'observation/joint_position': [0, 1], 'observation/gripper_position': [2] },
      images: { 'observation/exterior_image_1_left': 'front' }, imageSize: { width: 16, height: 12 }, actionColumns: [1, 2, 3], actionMode: 'delta',
    });
    const withCam = { ...hello, cameraIds: ['front'] };
    expect(b.accepts(hello)).toMatch(/openpi.images\["observation\/exterior_image_1_left"\] is camera "front"; the robot sends no cameras/);
    expect(b.accepts(withCam)).toBeNull();
    const frame = { cameraId: 'front', encoding: 'jpeg', data: Buffer.from(grayJpeg(128)), width: 16, height: 12, captureTimeUs: 0 };
    const r = await run(b, request(1, [1, 1, 1], { session: { sessionId: 's1', hello: withCam }, observation: testObservation(1, [1, 1, 1], { frames: [frame] }) }));
    if (!r.ok || r.chunk === undefined) throw new Error(`no chunk: ${JSON.stringify(r)}`);
    expect(Array.from(r.chunk.actions).map((v) => Number(v.toFixed(4)))).toEqual([1.1, 1.2, 1.3, 1.2, 1.3, 1.4]);
    const got = s.received[0] as Record<string, { shape: number[]; dtype: string }>;
    expect(got['observation/exterior_image_1_left']).toMatchObject({ dtype: '|u1', shape: [12, 16, 3] });
    expect(got['observation/gripper_position']?.shape).toEqual([1]);
    // A frame of another size is refused, naming both sizes and the key.
    const big = { ...frame, data: Buffer.from(grayJpeg(128, 32, 24)) };
    expect(failure(await run(b, request(2, [1, 1, 1], { session: { sessionId: 's1', hello: withCam }, observation: testObservation(2, [1, 1, 1], { frames: [big] }) }))))
      .toEqual({ code: 'BAD_OBSERVATION', message: 'openpi.images["observation/exterior_image_1_left"]: camera "front" frame is 32x24, openpi.imageSize is 16x12 (set the edge\'s cloud.image to it)' });
  });

  it('a chunk with too few columns or a NaN is an error naming the shape or the value', async () => {
    let answer: TestPolicyAnswer = { actions: [[0, 0]] };
    const s = await server(() => answer);
    const b = backend(s.url);
    expect(failure(await run(b, request(1)))).toEqual({ code: 'BACKEND_FAILED', message: 'openpi reply "actions" has shape [1, 2]; the robot has 3 joints and openpi.actionColumns needs column 2' });
    answer = { actions: [[0, 0, 0], [0, Number.NaN, 0]] };
    expect(failure(await run(b, request(2)))).toEqual({ code: 'BACKEND_FAILED', message: 'openpi reply "actions"[1][1] (joint 1) is NaN' });
    answer = { actions: { dtype: '<f4', shape: [2, 3], data: new Uint8Array(5) } };
    expect(failure(await run(b, request(3))).message).toMatch(/actions: array has 5 bytes, dtype <f4 x shape \[2, 3\] needs 24/);
  });

  it('a reply past the deadline is BACKEND_TIMEOUT; the connection is dropped and the next request reconnects', async () => {
    let delay = 300;
    const s = await server(goalSeeking([0, 0, 0], 4, 0.1), () => delay);
    const b = backend(s.url);
    expect(failure(await run(b, request(1), 100))).toEqual({ code: 'BACKEND_TIMEOUT', message: `the openpi server at ${s.url} did not answer within the 100 ms deadline` });
    delay = 0;
    // Within the back-off the request fails at once, naming the last failure.
    expect(failure(await run(b, request(2))).message).toMatch(/did not answer within the 100 ms deadline; next attempt in \d+ ms/);
    await new Promise((r) => setTimeout(r, 150)); // the back-off after one failure is 100 ms
    const r = await run(b, request(3));
    expect(r.ok && r.chunk !== undefined).toBe(true);
    expect(s.connections).toBe(2);
    expect(b.counters()).toMatchObject({ timeouts: 1, reconnects: 1, 'in-backoff': 1 });
  });

  it('a disconnect mid-request and a server exception (traceback, close 1011) are errors that name them', async () => {
    let mode: 'drop' | 'fail' = 'drop';
    const s = await server(() => (mode === 'drop' ? { disconnect: true } : { fail: 'state has the wrong size' }));
    const b = backend(s.url);
    expect(failure(await run(b, request(1)))).toEqual({ code: 'BACKEND_FAILED', message: `the openpi server at ${s.url} closed the connection (1006)` });
    await new Promise((r) => setTimeout(r, 150));
    mode = 'fail';
    expect(failure(await run(b, request(2)))).toEqual({ code: 'BACKEND_FAILED', message: `the openpi server at ${s.url} failed: ValueError: state has the wrong size` });
  });

  it('an unreachable server is BACKEND_FAILED naming the address; /healthz says why', async () => {
    const s = await server(goalSeeking([0, 0, 0], 4, 0.1));
    const url = s.url;
    await s.close();
    servers.length = 0;
    const b = backend(url);
    expect(failure(await run(b, request(1))).message).toMatch(new RegExp(`^cannot reach the openpi server at ${url}: .*ECONNREFUSED`));
    expect(await b.health(500)).toMatch(/GET \/healthz failed: .*ECONNREFUSED/);
  });
});

describe('openpi backend behind the brain server', () => {
  async function brain(policy: (obs: Record<string, unknown>) => TestPolicyAnswer) {
    const s = await server(policy);
    const b = createOpenpiBackend({ url: s.url, actionHz: 50 });
    const srv = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: b, planValidityMs: 500, backendTimeoutMs: 1000 });
    closers.push(() => srv.stop());
    const client = brainClient(`127.0.0.1:${srv.port}`);
    closers.push(() => client.close());
    return { s, srv, client };
  }

  it('plans carry the action chunk (Welcome says so); an out-of-range target is an Error and no plan', async () => {
    let goal = [1, 1, 1];
    const { client } = await brain((obs) => goalSeeking(goal, 5, 0.1)(obs));
    const t = new TestSession(client);
    closers.push(() => t.end());
    t.hello({ ...hello, acceptsActionChunks: true, protocolMinor: 1 });
    const w = await t.next('welcome');
    expect(w.welcome).toMatchObject({ backend: 'openpi', planKind: 'PLAN_KIND_ACTION_CHUNK', protocolMinor: 1 });
    t.observe(testObservation(1, [0, 0.5, -0.5]));
    const p = await t.next('plan');
    expect(p.plan.latent).toEqual([]);
    expect(p.plan.actionChunk).toMatchObject({ rows: 5, actionDim: 3, stepUs: 20_000, source: 'openpi' });
    goal = [1, 5, 1]; // "lift" is limited to [-2, 2]
    t.observe(testObservation(2, [0, 1.95, -0.5]));
    const e = await t.next('error');
    expect(e.error.code).toBe('BACKEND_FAILED');
    expect(e.error.message).toBe('backend "openpi" answered observation 2 badly: action_chunk row 0 joint 1 ("lift") is 2.0500 rad, outside the joint\'s range [-2, 2]');
    expect(t.received.filter((m) => m.msg === 'plan')).toHaveLength(1);
  });

  it('refuses an edge before protocol 1.1 (INCOMPATIBLE, naming hello.accepts_action_chunks)', async () => {
    const { client } = await brain(goalSeeking([0, 0, 0], 5, 0.1));
    const t = new TestSession(client);
    t.hello(hello);
    const e = await t.next('error');
    expect(e.error.code).toBe('INCOMPATIBLE');
    expect(e.error.message).toMatch(/hello.accepts_action_chunks is false: edge protocol 1.0, chunks need 1.1/);
    await t.closed();
  });
});
