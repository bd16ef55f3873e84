/**
 * Subscribers that do not keep up with the fleet, on the embedded broker: one that stops reading
 * (a frozen dashboard tab, a dead link) is disconnected and said so, one that falls behind gets a
 * thinned telemetry stream (QoS 0 skipped past its backlog) but every QoS 1 message, and neither
 * holds back an operator's e-stop to a robot. The viewers here speak MQTT over a raw socket the
 * test pauses and resumes.
 */
import { connect, createServer, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { robotTopics } from '../../../proto/mqtt/index.js';
import type { MqttLogger } from '../ports.js';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
import { freePort } from './mosquitto-process.js';

const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'rp' }], operators: [{ name: 'olga', password: 'op' }], viewers: [{ name: 'vic', password: 'vp' }] };
let broker: EmbeddedBroker | null = null;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await broker?.close();
  broker = null;
});

function recordingLogger(): MqttLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg = ''): void => { lines.push({ level, obj, msg }); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A viewer on a raw TCP socket subscribed to the whole fleet; its packets are parsed as they arrive (while the socket flows). */
async function rawViewer(url: string): Promise<{ socket: Socket; packets: mqttPacket.Packet[] }> {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  cleanup.push(() => socket.destroy());
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => packets.push(p));
  socket.on('data', (d) => parser.parse(d));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('error', reject); });
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'viewer', username: 'vic', password: Buffer.from('vp') }));
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'spinal/v1/f/#', qos: 1 }] }));
  await vi.waitFor(() => expect(packets.some((p) => p.cmd === 'suback')).toBe(true), { timeout: 5000 });
  return { socket, packets };
}

async function start(opts: Partial<EmbeddedBrokerOptions>): Promise<{ robot: mqtt.MqttClient; operator: mqtt.MqttClient; b: EmbeddedBroker }> {
  const b = await EmbeddedBroker.start({ ...accounts, port: 0, ws: { port: 0 }, ...opts });
  broker = b;
  const robot = await mqtt.connectAsync(b.url, { username: 'r1', password: 'rp', reconnectPeriod: 0 });
  cleanup.push(() => robot.endAsync(true));
  const operator = await mqtt.connectAsync(b.url, { username: 'olga', password: 'op', reconnectPeriod: 0 });
  cleanup.push(() => operator.endAsync(true));
  await robot.subscribeAsync(robotTopics('f', 'r1').commands, { qos: 1 });
  return { robot, operator, b };
}

/** Publishes `n` state summaries of 2 KiB at QoS 0 and one safety event at QoS 1 after them. */
async function flood(robot: mqtt.MqttClient, n: number): Promise<void> {
  const topics = robotTopics('f', 'r1');
  const body = Buffer.alloc(2048, 0x41);
  for (let i = 0; i < n; i++) robot.publish(topics.state, body, { qos: 0 });
  await robot.publishAsync(topics.event, '{"v":1,"kind":"after-the-flood"}', { qos: 1 });
}

/**
 * Publishes `n` events of 32 KiB at QoS 1 (never thinned), waiting for each PUBACK in windows of 100.
 * 48 MiB for n = 1536: more than a paused reader's kernel buffers take here (32 MiB receive, 4 MiB send at most).
 */
async function floodEvents(robot: mqtt.MqttClient, n: number): Promise<void> {
  const topic = robotTopics('f', 'r1').event;
  const body = Buffer.alloc(32 * 1024, 0x42);
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => robot.publishAsync(topic, body, { qos: 1 })));
  }
}

describe('embedded broker with subscribers that do not keep up', () => {
  it('never holds a robot\'s publishes back for a viewer that is behind: every event acknowledged while it is paused, all of them delivered when it reads again', async () => {
    // No stall verdict and a backlog limit above the flood: the viewer stays, and aedes would wait
    // for its socket to drain before reading the robot's next packets if the broker let it.
    const logger = recordingLogger();
    const { robot } = await start({ drainTimeoutMs: 0, maxBacklogBytes: 256 * 1024 * 1024, logger });
    const viewer = await rawViewer(broker?.url ?? '');
    viewer.socket.pause();
    const sent = 1536;
    await floodEvents(robot, sent);
    viewer.socket.resume();
    const events = (): number => viewer.packets.filter((p) => p.cmd === 'publish' && p.topic.endsWith('/event')).length;
    await vi.waitFor(() => expect(events()).toBe(sent), { timeout: 30_000 });
    expect(logger.lines.filter((l) => /disconnected/.test(l.msg))).toEqual([]);
  }, 60_000);

  it('disconnects a viewer whose backlog passes maxBacklogBytes, says so, and an operator\'s e-stop still reaches the robot', async () => {
    const logger = recordingLogger();
    const { robot, operator } = await start({ drainTimeoutMs: 0, maxBacklogBytes: 1024 * 1024, logger });
    const viewer = await rawViewer(broker?.url ?? '');
    viewer.socket.pause();
    await floodEvents(robot, 1536);
    expect(logger.lines.some((l) => /backlog past maxBacklogBytes\); disconnected/.test(l.msg) && (l.obj as { username?: string }).username === 'vic')).toBe(true);
    const topics = robotTopics('f', 'r1');
    const estop = new Promise<void>((resolve) => robot.on('message', (t) => { if (t === topics.estop) resolve(); }));
    await operator.publishAsync(topics.estop, '{"v":1}', { qos: 1 });
    await estop;
  }, 60_000);

  it('thins a viewer that falls behind to what it can take, but delivers every QoS 1 message to it', async () => {
    // drainTimeoutMs 0: a viewer is never dropped for stalling, so only the thinning is at work.
    const logger = recordingLogger();
    const { robot } = await start({ drainTimeoutMs: 0, qos0BacklogBytes: 64 * 1024, logger });
    const viewer = await rawViewer(broker?.url ?? '');
    viewer.socket.pause();
    const sent = 8000; // 16 MiB: more than the paused socket's kernel buffers take
    await flood(robot, sent);
    await vi.waitFor(() => expect(broker?.skippedQos0 ?? 0).toBeGreaterThan(0), { timeout: 20_000 });
    viewer.socket.resume();
    await vi.waitFor(() => expect(viewer.packets.some((p) => p.cmd === 'publish' && p.topic.endsWith('/event'))).toBe(true), { timeout: 20_000 });
    const states = viewer.packets.filter((p) => p.cmd === 'publish' && p.topic.endsWith('/state')).length;
    // Every summary was either delivered or skipped, none both, none lost otherwise.
    await vi.waitFor(() => expect(states + (broker?.skippedQos0 ?? 0)).toBe(sent), { timeout: 20_000 });
    expect(states).toBeLessThan(sent);
    expect(logger.lines.some((l) => l.level === 'warn' && /falling behind; skipping QoS 0/.test(l.msg) && (l.obj as { username?: string }).username === 'vic')).toBe(true);
    expect(viewer.socket.destroyed).toBe(false);
  }, 60_000);

  it('disconnects a WebSocket viewer that stops reading, says so, and an operator\'s e-stop still reaches the robot', async () => {
    const logger = recordingLogger();
    const { robot, operator } = await start({ drainTimeoutMs: 100, logger });
    const ws = new WebSocket(broker?.wsUrl ?? '', ['mqtt']);
    cleanup.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    ws.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'frozen', username: 'vic', password: Buffer.from('vp') }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve())); // CONNACK
    ws.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'spinal/v1/f/#', qos: 1 }] }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve())); // SUBACK
    (ws as unknown as { _socket: Socket })._socket.pause();
    const topics = robotTopics('f', 'r1');
    const estop = new Promise<void>((resolve) => robot.on('message', (t) => { if (t === topics.estop) resolve(); }));
    await flood(robot, 8000);
    await vi.waitFor(() => expect(logger.lines.some((l) => /stopped reading; disconnected/.test(l.msg) && (l.obj as { username?: string }).username === 'vic')).toBe(true), { timeout: 20_000 });
    await operator.publishAsync(topics.estop, '{"v":1}', { qos: 1 });
    await estop;
  }, 60_000);
});

describe('embedded broker output limits', () => {
  it.each([
    ['drainTimeoutMs', 2.5],
    ['drainTimeoutMs', -1],
    ['qos0BacklogBytes', -4],
    ['maxBacklogBytes', 0],
    ['maxBacklogBytes', 1.5],
    ['ingestBudgetMs', Number.NaN],
    ['deliveryConcurrency', -1],
  ] as const)('refuses %s=%s before it listens, naming the value', async (name, value) => {
    const port = await freePort();
    await expect(EmbeddedBroker.start({ ...accounts, port, allowPlaintext: true, [name]: value })).rejects.toThrow(`embedded broker ${name}=${value} must be`);
    // Nothing was left listening: the port is still free.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(port, '127.0.0.1', resolve); });
    await new Promise((resolve) => probe.close(resolve));
  });
});
