/**
 * Tasks outlive a brain: the MQTT task store (retained task topics) against the embedded broker
 * and a real Mosquitto. A restarted brain gets its robots' tasks back, a task set on one replica
 * reaches a robot served by another, a broker outage answers UNAVAILABLE and loses nothing, a
 * stale record never wins, a bad record is refused with a log line and ignored, and a write
 * acknowledged late is answered UNAVAILABLE, kept, and stored when the broker acknowledges it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { robotTopics, TaskRecordSchema, type TaskRecord } from '../../proto/mqtt/index.js';
import { EmbeddedBroker, MosquittoProcess } from '../../edge/mqtt/index.js';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer, TASK_STORE_SERVICE } from '../../cloud/brain/brain-server.js';
import { MqttTaskStore } from '../../cloud/brain/mqtt-task-store.js';
import { parseCloudConfig } from '../../cloud/config.js';
import { startCloud } from '../../cloud/main.js';
import { TestSession, brainClient, operatorClient, setTask, testHello } from '../../cloud/testing/brain-test-client.js';
import { ACCOUNTS, connectUser, type BrokerKind } from './mqtt-harness.js';
import { waitFor } from './link-harness.js';

const FLEET = ACCOUNTS.fleet;
const r1 = robotTopics(FLEET, 'r1');

/** A broker that can be stopped and started again on the same port (Mosquitto keeps its retained messages on disk). */
interface Broker { url: string; stop(): Promise<void>; start(): Promise<void>; dispose(): Promise<void> }

async function broker(kind: BrokerKind): Promise<Broker> {
  if (kind === 'embedded') {
    let b: EmbeddedBroker | null = await EmbeddedBroker.start({ ...ACCOUNTS });
    const port = b.port;
    return {
      url: b.url,
      async stop() { await b?.close(); b = null; },
      async start() { b = await EmbeddedBroker.start({ ...ACCOUNTS, port }); },
      async dispose() { await b?.close(); b = null; },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'spinal-tasks-'));
  let p: MosquittoProcess | null = await MosquittoProcess.start({ ...ACCOUNTS, dir, persistence: true });
  const port = p.port;
  return {
    url: p.url,
    async stop() { await p?.stop(); p = null; },
    async start() { p = await MosquittoProcess.start({ ...ACCOUNTS, dir, port, persistence: true }); },
    async dispose() { await p?.stop(); p = null; rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Log lines (parsed) of a pino logger, for asserting what was said. */
function capturedLogger(): { logger: pino.Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }); done(); } });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** A TCP relay whose broker-to-client direction can be held (PUBACKs and deliveries wait) and released. */
async function holdingProxy(target: string): Promise<{ url: string; hold(on: boolean): void; close(): Promise<void> }> {
  const port = Number(new URL(target).port);
  const pairs: { up: Socket; down: Socket }[] = [];
  let holding = false;
  const server = createServer({ noDelay: true }, (down) => {
    const up = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    for (const s of [up, down]) s.on('error', () => undefined);
    down.pipe(up);
    if (!holding) up.pipe(down);
    pairs.push({ up, down });
    down.on('close', () => up.destroy()); up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold(on) {
      holding = on;
      for (const p of pairs) if (on) { p.up.unpipe(p.down); p.up.pause(); } else { p.up.pipe(p.down); p.up.resume(); }
    },
    close: () => new Promise<void>((r) => { for (const p of pairs) { p.up.destroy(); p.down.destroy(); } server.close(() => r()); }),
  };
}

type HealthClient = grpc.Client & { check(r: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void };

describe.each<BrokerKind>(['embedded', 'mosquitto'])('tasks in retained topics on the %s broker', (kind) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function startBrain(url: string, name: string, logger = pino({ level: 'silent' })): Promise<{ server: BrainServer; address: string; store: MqttTaskStore }> {
    const store = await MqttTaskStore.start({ url, fleet: FLEET, username: 'brain', password: 'brain-secret', writer: name, logger, ackTimeoutMs: 2000, reconnectPeriodMs: 100 });
    const server = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1', 'r2'], backend: new ReferenceBackend(), tasks: store, logger, drainTimeoutMs: 500 });
    cleanup.push(() => server.stop());
    return { server, address: `127.0.0.1:${server.port}`, store };
  }

  function client<C extends grpc.Client>(c: C): C {
    cleanup.push(() => c.close());
    return c;
  }

  /** A robot's session: the task it holds once the brain has told it (welcome, then any task change). */
  async function robotSession(address: string, robot: string): Promise<{ s: TestSession; task: () => string; waitTask: (id: string) => Promise<void> }> {
    const s = new TestSession(client(brainClient(address)));
    s.hello(testHello(robot));
    const w = await s.next('welcome');
    let current = w.welcome.taskId;
    const waitTask = async (id: string): Promise<void> => {
      while (current !== id) current = (await s.next('task', 10_000)).task.taskId;
    };
    return { s, task: () => current, waitTask };
  }

  async function user(url: string, name: string): Promise<MqttClient> {
    const c = await connectUser(url, name);
    cleanup.push(() => { c.end(true); });
    return c;
  }

  it('a restarted brain has its robots\' tasks back without an operator', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const first = await startBrain(b.url, 'brainA');
    const op = client(operatorClient(first.address));
    const id1 = await setTask(op, 'r1', 'stack the red cubes');
    const id2 = await setTask(op, 'r2', 'wave');
    await first.server.stop();

    const again = await startBrain(b.url, 'brainA');
    const robot = await robotSession(again.address, 'r1');
    await robot.waitTask(id1);
    expect(again.server.tasks.get('r1')).toEqual({ taskId: id1, instruction: 'stack the red cubes' });
    await waitFor('r2 task in the mirror', () => again.server.tasks.get('r2').taskId === id2);
  }, 30_000);

  it('spinal cloud from a config with tasks.store "mqtt": restarted, its robot continues the task', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const dir = mkdtempSync(join(tmpdir(), 'spinal-cloud-tasks-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'brain.password'), 'brain-secret\n');
    const config = parseCloudConfig({
      listen: { host: '127.0.0.1', port: 0 }, robots: ['r1', 'r2'], log: { level: 'silent' },
      tasks: { store: 'mqtt', url: b.url, fleet: FLEET, username: 'brain', passwordFile: 'brain.password' },
    }, 'cloud.json', dir);
    const logger = pino({ level: 'silent' });
    const first = await startCloud(config, { logger });
    const id = await setTask(client(operatorClient(`127.0.0.1:${first.brain.port}`)), 'r1', 'fold the towels');
    await first.stop();
    const again = await startCloud(config, { logger });
    cleanup.push(() => again.stop());
    const robot = await robotSession(`127.0.0.1:${again.brain.port}`, 'r1');
    await robot.waitTask(id);
    expect(again.brain.tasks.kind).toBe('mqtt');
  }, 30_000);

  it('SetTask on replica A reaches the robot served by replica B', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const a = await startBrain(b.url, 'brainA');
    const bb = await startBrain(b.url, 'brainB');
    const robot = await robotSession(bb.address, 'r1');
    const id = await setTask(client(operatorClient(a.address)), 'r1', 'open the drawer');
    await robot.waitTask(id);
    expect(bb.server.tasks.get('r1').instruction).toBe('open the drawer');
    // B's own write later orders after A's (its stamp is raised past what it holds).
    const id2 = await setTask(client(operatorClient(bb.address)), 'r1', 'close the drawer');
    await waitFor('A sees B\'s newer task', () => a.server.tasks.get('r1').taskId === id2);
  }, 30_000);

  it('broker down: SetTask UNAVAILABLE naming the broker, health NOT_SERVING; back: nothing lost', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const brain = await startBrain(b.url, 'brainA');
    const op = client(operatorClient(brain.address));
    const health = client(new (grpc.makeClientConstructor((await import('grpc-health-check')).service as grpc.ServiceDefinition, 'Health'))(brain.address, grpc.credentials.createInsecure()) as unknown as HealthClient);
    const check = (): Promise<string> => new Promise((resolve, reject) => health.check({ service: TASK_STORE_SERVICE }, (e, r) => (e !== null ? reject(e) : resolve(r?.status ?? ''))));
    expect(await check()).toBe('SERVING');
    const robot = await robotSession(brain.address, 'r1');
    const id = await setTask(op, 'r1', 'sort the screws');
    await robot.waitTask(id);

    await b.stop();
    await waitFor('store unavailable', () => !brain.store.available, 10_000);
    expect(await check()).toBe('NOT_SERVING');
    const refused = await setTask(op, 'r2', 'wave').then(() => null, (e: grpc.ServiceError) => e);
    expect(refused?.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused?.details).toContain(b.url);
    expect(await brain.server.metrics.value('spinal_brain_task_store_up')).toBe(0);
    expect(await brain.server.metrics.value('spinal_brain_task_store_refused_total', { reason: 'disconnected' })).toBe(1);
    // The robot's session and its task are untouched.
    expect(brain.server.tasks.get('r1').taskId).toBe(id);
    expect(robot.s.ended).toBe(false);

    await b.start();
    await waitFor('store back', () => brain.store.available, 15_000);
    expect(await check()).toBe('SERVING');
    // The broker holds the task again (Mosquitto kept it; the embedded broker got it back from the mirror).
    const fresh = await startBrain(b.url, 'brainB');
    await waitFor('a fresh replica sees the task', () => fresh.server.tasks.get('r1').taskId === id, 10_000);
    const id2 = await setTask(op, 'r2', 'wave');
    await waitFor('the retried SetTask reaches the fresh replica', () => fresh.server.tasks.get('r2').taskId === id2);
  }, 40_000);

  it('a stale record never overrides a newer one; the retained value converges on the newer', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const brain = await startBrain(b.url, 'brainA');
    const id = await setTask(client(operatorClient(brain.address)), 'r1', 'newest');
    const held = brain.store.records().find((r) => r.robot === 'r1') as TaskRecord;
    const stale: TaskRecord = { ...held, taskId: 'old-1', instruction: 'older', at: held.at - 1000, writer: 'brainZ' };
    const raw = await user(b.url, 'brain');
    const seen: TaskRecord[] = [];
    raw.on('message', (_t, p) => { if (p.length > 0) seen.push(TaskRecordSchema.parse(JSON.parse(p.toString()))); });
    await raw.subscribeAsync(r1.task, { qos: 1 });
    await raw.publishAsync(r1.task, JSON.stringify(stale), { qos: 1, retain: true });
    await waitFor('the newer record written again', () => seen.filter((r) => r.taskId === id).length >= 2 && seen.at(-1)?.taskId === id, 10_000);
    expect(brain.server.tasks.get('r1').taskId).toBe(id);
    expect(await brain.server.metrics.value('spinal_brain_task_records_rejected_total', { reason: 'stale' })).toBeGreaterThanOrEqual(1);
    // A fresh replica reads the newer one from the broker.
    const fresh = await startBrain(b.url, 'brainB');
    await waitFor('fresh replica has the newer task', () => fresh.server.tasks.get('r1').taskId === id);
  }, 30_000);

  it('a bad record on a task topic is refused with a clear log line and ignored', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const { logger, lines } = capturedLogger();
    const brain = await startBrain(b.url, 'brainA', logger);
    const id = await setTask(client(operatorClient(brain.address)), 'r1', 'keep me');
    const raw = await user(b.url, 'brain');
    await raw.publishAsync(r1.task, JSON.stringify({ v: 1, kind: 'task', robot: 'r1', taskId: 'x', instruction: 'hijack', at: 'soon', writer: 'evil' }), { qos: 1, retain: true });
    await raw.publishAsync(robotTopics(FLEET, 'r2').task, JSON.stringify({ v: 1, kind: 'task', robot: 'r1', taskId: 'y', instruction: 'wrong robot', at: Date.now() + 60_000, writer: 'evil' }), { qos: 1, retain: true });
    await waitFor('two refusals logged', () => lines.filter((l) => l.msg.includes('refused the record')).length >= 2, 10_000);
    const refusals = lines.filter((l) => l.msg.includes('refused the record')).map((l) => l.msg);
    expect(refusals[0]).toMatch(/task: at: .*number/i);
    expect(refusals[1]).toMatch(/robot "r1" does not match the topic's robot "r2"/);
    expect(brain.server.tasks.get('r1').taskId).toBe(id);
    expect(brain.server.tasks.get('r2').taskId).toBe('');
    expect(await brain.server.metrics.value('spinal_brain_task_records_rejected_total', { reason: 'invalid' })).toBe(2);
  }, 30_000);

  it('a write the broker acknowledges late: UNAVAILABLE saying it stays queued, then stored when acknowledged', async () => {
    const b = await broker(kind);
    cleanup.push(() => b.dispose());
    const proxy = await holdingProxy(b.url);
    cleanup.push(() => proxy.close());
    const { logger, lines } = capturedLogger();
    const store = await MqttTaskStore.start({ url: proxy.url, fleet: FLEET, username: 'brain', password: 'brain-secret', writer: 'brainA', logger, ackTimeoutMs: 300 });
    cleanup.push(() => store.close());
    const changes: string[] = [];
    store.listen({ onChange: (robot, task) => changes.push(`${robot}:${task.instruction}`) });
    proxy.hold(true);
    const refused = await store.set('r1', 'late but kept').then(() => null, (e: Error) => e);
    expect(refused?.name).toBe('TaskStoreUnavailable');
    expect(refused?.message).toMatch(/did not acknowledge the task within 300 ms; it stays queued/);
    expect(store.get('r1').taskId).toBe('');
    proxy.hold(false);
    await waitFor('the queued write stored once acknowledged', () => store.get('r1').instruction === 'late but kept', 10_000);
    expect(changes).toEqual(['r1:late but kept']);
    expect(lines.some((l) => l.msg.includes('acknowledged late'))).toBe(true);
    // It reached the broker: a fresh replica reads it.
    const fresh = await startBrain(b.url, 'brainB');
    await waitFor('fresh replica has it', () => fresh.server.tasks.get('r1').instruction === 'late but kept');
  }, 30_000);
});
