/**
 * One process of the broker-load bench (broker-load.bench.ts forks several, tethered), in one of
 * three roles given by its first IPC message:
 *
 * - broker:     the embedded broker (aedes) with the bench fleet's accounts, alone in its process
 *               so its CPU and memory can be read from /proc;
 * - robots:     a slice of the fleet, one MQTT connection per robot with its own account, each
 *               publishing the real state summary (dashboard-synthetic-robot.ts, QoS 0) at the
 *               fleet's rate and its brief (1 Hz and on change, QoS 0) as the edge does, a safety
 *               event (QoS 1) now and then, subscribed to its commands as
 *               RobotMqtt is; and an operator that e-stops one of these robots every
 *               `estopProbeMs`, timed from its publish to the robot client's receipt (one clock);
 * - subscriber: a dashboard-like client, subscribed to the whole fleet (`spinal/v1/<fleet>/#`,
 *               mode `fleet`) or to what the dashboard's overview takes (every brief, status and
 *               event, mode `overview`): counts what it gets and, for each summary or brief, its
 *               publish time (`at`) to receipt.
 *
 * Publishing is one timer for the slice (what fell due goes out together; a robot late by more
 * than a period skips, never bunches) and pre-encoded QoS 0 packets written on the socket, so the
 * publishers cost little next to the broker they load.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { TELEMETRY_BACKLOG_BYTES } from '../../edge/mqtt/robot-mqtt.js';
import type { FleetAccounts } from '../../edge/mqtt/broker/broker-users.js';
import { watchParent } from '../../edge/process/tethered-child.js';
import { encodePayload, fleetTopics, robotTopics } from '../../proto/mqtt/index.js';
import { SyntheticRobot, forEachDue, publishPacket, stagger, topicBytes } from './dashboard-synthetic-robot.js';

watchParent();

export interface RobotsConfig {
  url: string;
  fleet: string;
  /** Robot indexes [from, to) of robots named robot<i+1>, password `<id>-secret`. */
  from: number;
  to: number;
  rateHz: number;
  eventPeriodMs: number;
  estopProbeMs: number;
  operator: { name: string; password: string };
}

export type ToChild =
  | { type: 'broker'; accounts: FleetAccounts; deliveryConcurrency?: number }
  | { type: 'robots'; config: RobotsConfig }
  | { type: 'subscriber'; url: string; fleet: string; viewer: { name: string; password: string }; mode: 'fleet' | 'overview' }
  | { type: 'load'; on: boolean }
  | { type: 'stats' }
  | { type: 'quit' };

export interface ChildStats {
  published: number;
  briefs: number;
  skipped: number;
  events: number;
  received: number;
  /** Subscriber: publish-to-receipt lag of state summaries in this window (ms). */
  lagMs: number[];
  /** Robots: e-stop publish-to-receipt (ms), and probes sent / received. */
  estopMs: number[];
  probesSent: number;
  probesGot: number;
  /** Connections the broker closed during the run. */
  closes: number;
  cpuUs: number;
  /** Robots: summaries not sent because the robot's connection was backed up (as the edge skips them). */
  heldBack: number;
  /** Broker: QoS 0 messages it skipped for subscribers that fell behind (embedded broker only). */
  brokerSkipped: number;
  /** This process's event-loop delay p99 in this window (ms): how starved the process itself was. */
  loopP99Ms: number;
}

export type FromChild =
  | { type: 'ready'; url?: string }
  | { type: 'stats'; stats: ChildStats }
  | { type: 'error'; message: string };

const TICK_MS = 4;
const send = (m: FromChild): void => { process.send?.(m); };
const nowEpochMs = (): number => performance.timeOrigin + performance.now();

interface Live { robot: SyntheticRobot; client: MqttClient; stateTopic: Buffer; briefTopic: Buffer; nextMs: number; tick: number }

const counters = { published: 0, briefs: 0, skipped: 0, events: 0, received: 0, probesSent: 0, probesGot: 0, closes: 0, heldBack: 0 };
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let lagMs: number[] = [];
let estopMs: number[] = [];
const fleet: Live[] = [];
const clients: MqttClient[] = [];
let broker: EmbeddedBroker | null = null;
let robotsConfig: RobotsConfig | null = null;
const timers: NodeJS.Timeout[] = [];
let tickTimer: NodeJS.Timeout | null = null;

async function startRobots(c: RobotsConfig): Promise<void> {
  robotsConfig = c;
  const probeSentAt = new Map<string, number>();
  const connectOne = async (i: number): Promise<void> => {
    const r = new SyntheticRobot(i, `robot${i + 1}`, c.rateHz);
    const topics = robotTopics(c.fleet, r.id);
    const client = await mqtt.connectAsync(c.url, {
      username: r.id, password: `${r.id}-secret`, clientId: `load-${r.id}`, clean: true, keepalive: 30, reconnectPeriod: 0,
      will: { topic: topics.status, payload: encodePayload({ v: 1, robot: r.id, online: false, at: Date.now(), reason: 'connection lost' }), qos: 1, retain: true },
    });
    client.on('close', () => { counters.closes++; });
    client.on('error', () => undefined);
    await client.subscribeAsync([topics.commands, fleetTopics(c.fleet).commands], { qos: 1 });
    client.on('message', (topic, payload) => {
      const sentAt = probeSentAt.get(payload.toString('utf8'));
      if (topic === topics.estop && sentAt !== undefined) { estopMs.push(performance.now() - sentAt); counters.probesGot++; }
    });
    clients.push(client);
    fleet.push({ robot: r, client, stateTopic: topicBytes(topics.state), briefTopic: topicBytes(topics.brief), nextMs: 0, tick: 0 });
  };
  // In batches: hundreds of handshakes at once only time each other out on two cores.
  for (let i = c.from; i < c.to; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, c.to - i) }, (_, k) => connectOne(i + k)));
  }
  fleet.sort((a, b) => a.robot.index - b.robot.index);
  const probe = await mqtt.connectAsync(c.url, { username: c.operator.name, password: c.operator.password, clientId: `load-probe-${c.from}`, reconnectPeriod: 0 });
  probe.on('error', () => undefined);
  clients.push(probe);
  timers.push(setInterval(() => {
    if (tickTimer === null) return; // probes only under load
    const l = fleet[(counters.probesSent * 13) % fleet.length] as Live;
    const payload = JSON.stringify({ v: 1, kind: 'estop', id: `probe-${c.from}-${counters.probesSent}`, category: 1, operator: c.operator.name, at: Date.now(), reason: 'bench probe' });
    counters.probesSent++;
    probeSentAt.set(payload, performance.now());
    probe.publish(robotTopics(c.fleet, l.robot.id).estop, payload, { qos: 1 });
  }, c.estopProbeMs));
}

function startLoad(c: RobotsConfig): void {
  const period = 1000 / c.rateHz;
  const start = performance.now() + 20;
  stagger(fleet, start, period);
  const loop = (): void => {
    counters.skipped += forEachDue(fleet, period, performance.now(), (l) => {
      const socket = l.client.stream as unknown as Duplex;
      // As the edge does (robot-mqtt.ts): a summary is skipped while the ones before it wait.
      if (socket.writableLength > TELEMETRY_BACKLOG_BYTES) { counters.heldBack++; return; }
      const { state, brief } = l.robot.next(l.tick, nowEpochMs());
      socket.write(publishPacket(l.stateTopic, state[0], state[1]));
      counters.published++;
      if (brief) { socket.write(publishPacket(l.briefTopic, brief[0], brief[1])); counters.briefs++; }
    });
    tickTimer = setTimeout(loop, TICK_MS);
  };
  tickTimer = setTimeout(loop, 20);
  let n = 0;
  timers.push(setInterval(() => {
    if (tickTimer === null) return;
    const l = fleet[(n++ * 37) % fleet.length] as Live;
    l.client.publish(robotTopics(c.fleet, l.robot.id).event, encodePayload(l.robot.event(Date.now(), performance.now() * 1000)), { qos: 1 });
    counters.events++;
  }, c.eventPeriodMs));
}

async function startSubscriber(url: string, fleetName: string, viewer: { name: string; password: string }, mode: 'fleet' | 'overview'): Promise<void> {
  const client = await mqtt.connectAsync(url, { username: viewer.name, password: viewer.password, clientId: 'load-dashboard', reconnectPeriod: 0, keepalive: 30 });
  client.on('close', () => { counters.closes++; });
  client.on('error', () => undefined);
  clients.push(client);
  client.on('message', (topic, payload) => {
    counters.received++;
    if (!topic.endsWith('/state') && !topic.endsWith('/brief')) return;
    // The summary's (and the brief's) head is `{"v":1,"robot":"...","at":<epoch ms>,`: read `at` without parsing the rest.
    const head = payload.toString('latin1', 0, 64);
    const i = head.indexOf('"at":');
    if (i >= 0) lagMs.push(nowEpochMs() - Number.parseInt(head.slice(i + 5), 10));
  });
  const root = `spinal/v1/${fleetName}`;
  await client.subscribeAsync(mode === 'fleet' ? [fleetTopics(fleetName).everything] : [`${root}/+/brief`, `${root}/+/status`, `${root}/+/event`], { qos: 0 });
}

function stats(): ChildStats {
  const cpu = process.cpuUsage();
  const s: ChildStats = { ...counters, lagMs, estopMs, cpuUs: cpu.user + cpu.system, brokerSkipped: broker?.skippedQos0 ?? 0, loopP99Ms: loopDelay.percentile(99) / 1e6 };
  lagMs = [];
  estopMs = [];
  loopDelay.reset();
  return s;
}

process.on('message', (m: ToChild) => {
  const fail = (e: unknown): void => send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  switch (m.type) {
    case 'broker':
      EmbeddedBroker.start({ ...m.accounts, host: '127.0.0.1', port: 0, ...(m.deliveryConcurrency !== undefined ? { deliveryConcurrency: m.deliveryConcurrency } : {}) }).then((b) => { broker = b; send({ type: 'ready', url: b.url }); }, fail);
      return;
    case 'robots':
      startRobots(m.config).then(() => send({ type: 'ready' }), fail);
      return;
    case 'subscriber':
      startSubscriber(m.url, m.fleet, m.viewer, m.mode).then(() => send({ type: 'ready' }), fail);
      return;
    case 'load':
      if (m.on && robotsConfig !== null && tickTimer === null) startLoad(robotsConfig);
      if (!m.on && tickTimer !== null) { clearTimeout(tickTimer); tickTimer = null; }
      return;
    case 'stats':
      send({ type: 'stats', stats: stats() });
      return;
    case 'quit':
      if (tickTimer !== null) clearTimeout(tickTimer);
      for (const t of timers) clearInterval(t);
      for (const c of clients) c.end(true);
      void (broker?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
  }
});
