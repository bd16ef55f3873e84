import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { decodeGoal, goalRangeFromLimits, referenceGoalLatentDim } from '../../proto/latent/reference-goal.js';
import { ReferenceBackend } from '../backends/reference/reference-backend.js';
import { listSessions, operatorClient, setTask, testHello, testObservation } from '../testing/brain-test-client.js';
import { brainServerHarness } from '../testing/brain-server-harness.js';
import { ScriptedBackend } from '../testing/scripted-backend.js';

const { start, session, opened, track } = brainServerHarness({
  robots: ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'], drainTimeoutMs: 2000,
});

describe('brain server sessions', () => {
  it('hello -> welcome -> observation -> a plan that names it, with validity', async () => {
    const { address } = await start({ backend: new ReferenceBackend(), planValidityMs: 750 });
    const s = session(address);
    s.hello(testHello('r1'));
    const w = await s.next('welcome');
    expect(w.welcome).toMatchObject({ backend: 'reference', protocolMajor: 1, taskId: '' });
    s.observe(testObservation(1, [0.1, 0.2, 0.3]));
    const { plan } = await s.next('plan');
    expect(plan).toMatchObject({ planId: 1, observationSeq: 1, validForMs: 750 });
    expect(plan.latent).toHaveLength(referenceGoalLatentDim(3));
    expect(plan.createdTimeUs).toBeGreaterThanOrEqual(plan.observationReceivedTimeUs);
    // No task: the reference brain holds the position it saw.
    const range = goalRangeFromLimits([-3, -2, -2.5], [3, 2, 2.5]);
    const g = decodeGoal(plan.latent, range);
    [0.1, 0.2, 0.3].forEach((q, j) => expect(g.position[j]).toBeCloseTo(q, 5));
    s.observe(testObservation(2, [0.1, 0.2, 0.3]));
    expect((await s.next('plan')).plan).toMatchObject({ planId: 2, observationSeq: 2 });
  });

  it('newest observation wins under a slow backend: the rest are superseded and counted', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 150;
    const { server, address } = await start({ backend, batching: { maxWaitMs: 0 } });
    const s = await opened(address, 'r1');
    for (let seq = 1; seq <= 10; seq++) s.observe(testObservation(seq));
    const first = await s.next('plan');
    const second = await s.next('plan');
    expect(first.plan.observationSeq).toBe(1);
    expect(second.plan.observationSeq).toBe(10); // 2..9 replaced one another while 1 was with the backend
    expect(await server.metrics.value('spinal_brain_observations_superseded_total')).toBe(8);
    expect(await server.metrics.value('spinal_brain_observations_received_total')).toBe(10);
    expect(backend.batches.flat().map((r) => r.observation.seq)).toEqual([1, 10]);
  });

  it('batches simultaneous observations of many robots into one call; each robot gets its own answer', async () => {
    const backend = new ScriptedBackend();
    const { server, address } = await start({ backend, batching: { maxBatch: 8, maxWaitMs: 250 } });
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'];
    const sessions = await Promise.all(ids.map((id) => opened(address, id)));
    sessions.forEach((s, i) => s.observe(testObservation(100 + i, [i / 10, 0, 0])));
    const plans = await Promise.all(sessions.map((s) => s.next('plan')));
    expect(backend.batches).toHaveLength(1);
    expect(backend.batches[0]).toHaveLength(8);
    plans.forEach(({ plan }, i) => {
      expect(plan.observationSeq).toBe(100 + i);
      expect(plan.latent[0]).toBe(100 + i);
      expect(plan.latent[1]).toBeCloseTo(i / 10, 6);
    });
    expect(await server.metrics.value('spinal_brain_batch_size', {}, 'spinal_brain_batch_size_sum')).toBe(8);
  });

  it('Operator SetTask reaches the right session only; ListSessions lists them', async () => {
    const { address } = await start({ backend: new ReferenceBackend() });
    const a = await opened(address, 'r1');
    const b = await opened(address, 'r2');
    const op = operatorClient(address);
    track(op);
    const taskId = await setTask(op, 'r2', 'go to ready');
    const { task } = await b.next('task');
    expect(task).toEqual({ taskId, instruction: 'go to ready' });
    b.observe(testObservation(1, [0, 0, 0]));
    const { plan } = await b.next('plan');
    expect(plan.taskId).toBe(taskId);
    const g = decodeGoal(plan.latent, goalRangeFromLimits([-3, -2, -2.5], [3, 2, 2.5]));
    [1, 1, 1].forEach((q, j) => expect(g.position[j]).toBeCloseTo(q, 5));
    a.observe(testObservation(1));
    await a.next('plan');
    expect(a.received.some((m) => m.msg === 'task')).toBe(false);
    expect((await listSessions(op)).map((x) => x.robotId).sort()).toEqual(['r1', 'r2']);
    await expect(setTask(op, 'nobody', 'wave')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(setTask(op, 'r1', '  ')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it('a task set before the robot connects is announced in its welcome', async () => {
    const { address } = await start({ backend: new ReferenceBackend() });
    const op = operatorClient(address);
    track(op);
    const taskId = await setTask(op, 'r3', 'wave');
    const s = session(address);
    s.hello(testHello('r3'));
    expect((await s.next('welcome')).welcome).toMatchObject({ taskId, instruction: 'wave' });
  });

  it('serves standard gRPC health and Prometheus /metrics', async () => {
    const { server, address } = await start({ metrics: { host: '127.0.0.1', port: 0 } });
    const s = await opened(address, 'r1');
    s.observe(testObservation(1));
    await s.next('plan');
    const res = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/spinal_brain_sessions 1/);
    expect(text).toMatch(/spinal_brain_plans_sent_total 1/);
    expect(text).toMatch(/spinal_brain_plan_latency_seconds_count 1/);
    const { service: healthService } = await import('grpc-health-check');
    const Health = grpc.makeClientConstructor(healthService as grpc.ServiceDefinition, 'Health');
    const h = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { check(r: object, cb: (e: Error | null, r?: { status: string }) => void): void };
    track(h);
    const st = await new Promise<{ status: string } | undefined>((resolve, reject) => h.check({ service: 'spinal.brain.v1.Brain' }, (e, r) => (e !== null ? reject(e) : resolve(r))));
    expect(st?.status).toBe('SERVING');
  });

  it('a newer session of the same robot replaces the open one', async () => {
    const { server, address } = await start();
    const old = await opened(address, 'r1');
    await opened(address, 'r1');
    const { error } = await old.next('error');
    expect(error.code).toBe('OVERLOADED');
    await old.closed();
    expect(server.sessions()).toHaveLength(1);
  });

  it('shuts down cleanly: the plan in progress goes out, then the stream ends and health says NOT_SERVING', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 200;
    const { server, address } = await start({ backend });
    const s = await opened(address, 'r1');
    s.observe(testObservation(7));
    await new Promise((r) => setTimeout(r, 50)); // the observation is with the backend
    const stopped = server.stop();
    const { plan } = await s.next('plan');
    expect(plan.observationSeq).toBe(7);
    expect((await s.next('error')).error).toMatchObject({ code: 'OVERLOADED', message: expect.stringContaining('shutting down') });
    await s.closed();
    await stopped;
    expect(backend.closed).toBe(true);
    expect(backend.ended).toHaveLength(1);
  });
});
