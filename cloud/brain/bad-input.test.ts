import { describe, expect, it } from 'vitest';
import { testHello, testObservation } from '../testing/brain-test-client.js';
import { brainServerHarness } from '../testing/brain-server-harness.js';

const { start, session, opened } = brainServerHarness({ robots: ['r1', 'r2'], drainTimeoutMs: 1000 });

describe('refused hellos: Error with a code, then the stream ends', () => {
  const cases: [string, (h: ReturnType<typeof testHello>) => ReturnType<typeof testHello>, string, RegExp][] = [
    ['unknown robot', (h) => ({ ...h, robotId: 'stranger' }), 'UNKNOWN_ROBOT', /"stranger" is not in this brain's fleet/],
    ['protocol major', (h) => ({ ...h, protocolMajor: 2 }), 'INCOMPATIBLE', /protocol_major 2/],
    ['latent dims the backend cannot produce', (h) => ({ ...h, latentDim: 9 }), 'INCOMPATIBLE', /latent_dim 9/],
  ];
  it.each(cases)('%s', async (_name, edit, code, message) => {
    const { server, address } = await start();
    const s = session(address);
    s.hello(edit(testHello('r1')));
    const { error } = await s.next('error');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    await s.closed();
    expect(await server.metrics.value('spinal_brain_sessions_refused_total', { code })).toBe(1);
    expect(server.sessions()).toHaveLength(0);
  });

  it('an observation before the hello', async () => {
    const { address } = await start();
    const s = session(address);
    s.observe(testObservation(1));
    expect((await s.next('error')).error.code).toBe('INCOMPATIBLE');
    await s.closed();
  });
});

describe('bad observations: Error BAD_OBSERVATION naming the value, counted; the session goes on', () => {
  const cases: [string, (seq: number) => ReturnType<typeof testObservation>, string, RegExp][] = [
    ['wrong state dims', (seq) => testObservation(seq, [0, 0]), 'state-dims', /state has 2 values, state_dim is 3/],
    ['NaN in the state', (seq) => testObservation(seq, [0, NaN, 0]), 'state-not-finite', /state\[1\] is NaN/],
    ['an oversized image', (seq) => testObservation(seq, [0, 0, 0], { frames: [{ cameraId: 'wrist', encoding: 'jpeg', data: Buffer.alloc(1024 * 1024 + 1), width: 640, height: 480, captureTimeUs: 0 }] }), 'image-too-large', /"wrist"\) is 1048577 bytes, the limit is 1048576/],
  ];
  it.each(cases)('%s', async (_name, make, reason, message) => {
    const { server, address } = await start();
    const s = await opened(address, 'r1');
    s.observe(make(1));
    const { error } = await s.next('error');
    expect(error).toMatchObject({ code: 'BAD_OBSERVATION', observationSeq: 1 });
    expect(error.message).toMatch(message);
    expect(await server.metrics.value('spinal_brain_observations_rejected_total', { reason })).toBe(1);
    s.observe(testObservation(2));
    expect((await s.next('plan')).plan.observationSeq).toBe(2);
  });

  it('duplicate and out-of-order seq', async () => {
    const { server, address } = await start();
    const s = await opened(address, 'r1');
    s.observe(testObservation(5));
    await s.next('plan');
    s.observe(testObservation(5));
    expect((await s.next('error')).error).toMatchObject({ code: 'BAD_OBSERVATION', observationSeq: 5, message: expect.stringContaining('duplicate') });
    s.observe(testObservation(3));
    expect((await s.next('error')).error.message).toMatch(/seq 3 is out-of-order: the last accepted seq is 5/);
    expect(await server.metrics.value('spinal_brain_observations_rejected_total')).toBe(2);
  });
});

describe('backend failures: a clear Error per observation, counted, and no session affects another', () => {
  it('wrong latent dims and NaN from the backend hit only the robot concerned', async () => {
    const { server, backend, address } = await start({ batching: { maxBatch: 2, maxWaitMs: 250 } });
    backend.misbehave.set('r1', 'wrong-dims');
    const a = await opened(address, 'r1');
    const b = await opened(address, 'r2');
    a.observe(testObservation(1));
    b.observe(testObservation(1));
    const { error } = await a.next('error');
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', observationSeq: 1, message: expect.stringMatching(/latent has 8 values, latent_dim is 7/) });
    expect((await b.next('plan')).plan.observationSeq).toBe(1);
    expect(backend.batches[0]).toHaveLength(2);
    backend.misbehave.set('r1', 'nan');
    a.observe(testObservation(2));
    expect((await a.next('error')).error.message).toMatch(/latent\[1\] is NaN/);
    expect(await server.metrics.value('spinal_brain_backend_errors_total', { kind: 'bad-output' })).toBe(2);
  });

  it('a backend that throws: BACKEND_FAILED', async () => {
    const { server, backend, address } = await start();
    backend.misbehave.set('*', 'throw');
    const s = await opened(address, 'r1');
    s.observe(testObservation(1));
    expect((await s.next('error')).error).toMatchObject({ code: 'BACKEND_FAILED', message: 'backend failed: model exploded' });
    expect(await server.metrics.value('spinal_brain_backend_errors_total', { kind: 'failed' })).toBe(1);
  });

  it('a backend that returns too few results: BACKEND_FAILED for each', async () => {
    const { backend, address } = await start();
    backend.misbehave.set('*', 'short-batch');
    const s = await opened(address, 'r1');
    s.observe(testObservation(1));
    expect((await s.next('error')).error.message).toBe('backend returned 0 results for a batch of 1');
  });

  it('a backend that hangs: BACKEND_TIMEOUT after the deadline, and the session recovers', async () => {
    const { server, backend, address } = await start({ backendTimeoutMs: 100 });
    backend.misbehave.set('*', 'hang');
    const s = await opened(address, 'r1');
    s.observe(testObservation(1));
    expect((await s.next('error')).error).toMatchObject({ code: 'BACKEND_TIMEOUT', observationSeq: 1, message: 'backend did not answer within 100 ms' });
    expect(await server.metrics.value('spinal_brain_backend_errors_total', { kind: 'timeout' })).toBe(1);
    backend.misbehave.clear();
    s.observe(testObservation(2));
    expect((await s.next('plan')).plan.observationSeq).toBe(2);
  });
});
