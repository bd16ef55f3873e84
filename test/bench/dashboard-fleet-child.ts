/**
 * The dashboard bench's synthetic fleet, in a process of its own (dashboard-load.bench.ts forks it
 * with a parent-death pipe): one MQTT connection per robot with its own account, publishing state
 * summaries at the fleet's rate and briefs beside them (1 Hz and on a safety change), one safety
 * event a second fleet-wide; a viewer over WebSocket that takes what the page takes (every brief,
 * status and event, and the selected robot's state) and counts it: the page's peer in Node; and an
 * operator that e-stops one robot every ESTOP_PROBE_MS, timed to the robot's client.
 *
 * Kept apart from the broker and the page's driver so that what the page is fed does not depend
 * on how much CPU the broker leaves the publishers, and the other way round. Publishing is one
 * timer for the whole fleet (every TICK_MS it sends what fell due; a robot late by more than a
 * period skips, never bunches), payloads are pre-encoded (dashboard-synthetic-robot.ts), and each
 * summary is stamped with the wall time it is sent at: the page's plot lag is measured against it.
 */
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { Duplex } from 'node:stream';
import { watchParent } from '../../edge/process/tethered-child.js';
import { SafetyEventSchema, StateBriefSchema, StateSummarySchema, encodePayload, fleetTopics, robotTopics } from '../../proto/mqtt/index.js';
import { SyntheticRobot, forEachDue, publishPacket, stagger, topicBytes } from './dashboard-synthetic-robot.js';

watchParent();

export interface FleetConfig {
  url: string;
  wsUrl: string;
  fleet: string;
  robots: number;
  rateHz: number;
  operator: { name: string; password: string };
  viewer: { name: string; password: string };
  estopProbeMs: number;
  /** The robot the page shows in detail (the viewer takes its state too). */
  selected: string;
  eventPeriodMs: number;
}
export type ToChild =
  | { type: 'init'; config: FleetConfig }
  | { type: 'load'; on: boolean }
  | { type: 'stats' }
  | { type: 'drain'; maxMs: number }
  | { type: 'quit' };
export interface FleetStats {
  published: number;
  briefs: number;
  skipped: number;
  /** What the viewer got: the selected robot's states, everyone's briefs and events. */
  viewerState: number;
  viewerBriefs: number;
  viewerEvents: number;
  probesSent: number;
  probeMs: number[];
  /** This process's CPU time (user + system), µs, and V8 heap in use. */
  cpuUs: number;
  heapUsed: number;
}
export type FromChild =
  | { type: 'ready'; quadBytes: number; armBytes: number; briefBytes: number }
  | { type: 'stats'; stats: FleetStats }
  | { type: 'drained' }
  | { type: 'error'; message: string };

/** The fleet's one publishing timer: what fell due in this time goes out together. */
const TICK_MS = 4;
const send = (m: FromChild): void => { process.send?.(m); };
const nowEpochMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Live {
  robot: SyntheticRobot;
  client: MqttClient;
  stateTopic: Buffer;
  briefTopic: Buffer;
  /** The next deadline (performance.now ms) and the robot's tick count (its position in the cycle). */
  nextMs: number;
  tick: number;
}

const fleet: Live[] = [];
const counters = { published: 0, briefs: 0, skipped: 0, viewerState: 0, viewerBriefs: 0, viewerEvents: 0, probesSent: 0 };
const probeMs: number[] = [];
const probeSentAt = new Map<string, number>();
let viewer: MqttClient | null = null;
let prober: MqttClient | null = null;
let tickTimer: NodeJS.Timeout | null = null;
let eventTimer: NodeJS.Timeout | null = null;
let probeTimer: NodeJS.Timeout | null = null;

/**
 * A QoS 0 PUBLISH goes onto the robot's socket as one pre-built buffer. mqtt.js's own publish
 * (packet object, validation, its stream's write queue) costs more than the rest of a message
 * here; a whole packet written between its writes cannot tear one of them. QoS 1 and everything
 * else still go through mqtt.js.
 */
function write(client: MqttClient, packet: Buffer): void {
  (client.stream as unknown as Duplex).write(packet);
}

function publishDue(period: number): void {
  counters.skipped += forEachDue(fleet, period, performance.now(), (l) => {
    const { state, brief } = l.robot.next(l.tick, nowEpochMs());
    write(l.client, publishPacket(l.stateTopic, state[0], state[1]));
    counters.published++;
    if (brief) { write(l.client, publishPacket(l.briefTopic, brief[0], brief[1])); counters.briefs++; }
  });
}

async function init(c: FleetConfig): Promise<void> {
  const ids = Array.from({ length: c.robots }, (_, i) => `robot${i + 1}`);
  const robots = ids.map((id, i) => new SyntheticRobot(i, id, c.rateHz));
  // The payloads stay what the edge sends: both shapes, their briefs and the events pass the contract's schemas.
  const sizes = robots.slice(0, 2).map((r) => {
    const { state, brief } = r.next(0, nowEpochMs());
    const s = Buffer.concat([Buffer.from(state[0], 'latin1'), state[1]]);
    StateSummarySchema.parse(JSON.parse(s.toString('utf8')));
    if (!brief) throw new Error('the first sample of a robot must carry a brief');
    const b = Buffer.concat([Buffer.from(brief[0], 'latin1'), brief[1]]);
    StateBriefSchema.parse(JSON.parse(b.toString('utf8')));
    SafetyEventSchema.parse(r.event(Date.now(), performance.now() * 1000));
    SafetyEventSchema.parse(r.event(Date.now(), performance.now() * 1000));
    return { state: s.length, brief: b.length };
  });
  const connectOne = async (r: SyntheticRobot): Promise<void> => {
    const topics = robotTopics(c.fleet, r.id);
    // As RobotMqtt connects: will = retained offline, then retained online.
    const client = await mqtt.connectAsync(c.url, {
      username: r.id, password: `${r.id}-secret`, clientId: `bench-${r.id}`, clean: true, keepalive: 10, reconnectPeriod: 0,
      will: { topic: topics.status, payload: encodePayload({ v: 1, robot: r.id, online: false, at: Date.now(), reason: 'connection lost' }), qos: 1, retain: true },
    });
    await client.publishAsync(topics.status, encodePayload({ v: 1, robot: r.id, online: true, at: Date.now(), software: 'spinal-bench' }), { qos: 1, retain: true });
    await client.subscribeAsync([topics.commands, fleetTopics(c.fleet).commands], { qos: 1 });
    client.on('message', (topic, payload) => {
      const sentAt = probeSentAt.get(payload.toString('utf8'));
      if (topic === topics.estop && sentAt !== undefined) probeMs.push(performance.now() - sentAt);
    });
    fleet.push({ robot: r, client, stateTopic: topicBytes(topics.state), briefTopic: topicBytes(topics.brief), nextMs: 0, tick: 0 });
  };
  // In batches: a thousand handshakes at once only time each other out on two cores.
  for (let i = 0; i < robots.length; i += 50) {
    const done = await Promise.allSettled(robots.slice(i, i + 50).map(connectOne));
    const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
    if (failed) throw new Error(`a synthetic robot could not connect: ${(failed.reason as Error).message}`);
  }
  fleet.sort((a, b) => a.robot.index - b.robot.index);

  viewer = await mqtt.connectAsync(c.wsUrl, { username: c.viewer.name, password: c.viewer.password, clientId: 'bench-counter', reconnectPeriod: 0 });
  viewer.on('message', (topic) => {
    if (topic.endsWith('/state')) counters.viewerState++;
    else if (topic.endsWith('/brief')) counters.viewerBriefs++;
    else if (topic.endsWith('/event')) counters.viewerEvents++;
  });
  // Not the whole fleet's state: aedes waits for every subscriber's socket through one delivery
  // queue, so a subscriber of 2000 messages/s in a starved process can hold back everyone's
  // messages, e-stops and the page's included.
  const root = `spinal/v1/${c.fleet}`;
  await viewer.subscribeAsync([`${root}/+/brief`, `${root}/+/status`, `${root}/+/event`, robotTopics(c.fleet, c.selected).state], { qos: 1 });

  const probe = await mqtt.connectAsync(c.url, { username: c.operator.name, password: c.operator.password, clientId: 'bench-estop-probe', reconnectPeriod: 0 });
  prober = probe;
  probeTimer = setInterval(() => {
    const l = fleet[(counters.probesSent * 13) % fleet.length] as Live;
    const payload = JSON.stringify({ v: 1, kind: 'estop', id: `probe-${counters.probesSent}`, category: 1, operator: c.operator.name, at: Date.now(), reason: 'bench probe' });
    counters.probesSent++;
    probeSentAt.set(payload, performance.now());
    probe.publish(robotTopics(c.fleet, l.robot.id).estop, payload, { qos: 1 });
  }, c.estopProbeMs);
  const quad = sizes[0] as { state: number; brief: number };
  send({ type: 'ready', quadBytes: quad.state, armBytes: sizes[1]?.state ?? Number.NaN, briefBytes: quad.brief });
}

function startLoad(c: FleetConfig): void {
  const period = 1000 / c.rateHz;
  const start = performance.now() + 50;
  stagger(fleet, start, period);
  const loop = (): void => {
    publishDue(period);
    tickTimer = setTimeout(loop, TICK_MS);
  };
  tickTimer = setTimeout(loop, 50);
  let eventCount = 0;
  eventTimer = setInterval(() => {
    const l = fleet[(eventCount++ * 37) % fleet.length] as Live;
    l.client.publish(robotTopics(c.fleet, l.robot.id).event, encodePayload(l.robot.event(Date.now(), performance.now() * 1000)), { qos: 1 });
  }, c.eventPeriodMs);
}

function stopLoad(): void {
  if (tickTimer) clearTimeout(tickTimer);
  if (eventTimer) clearInterval(eventTimer);
  tickTimer = null;
  eventTimer = null;
}

/** Lets the viewer take what the broker still holds for it (aedes overflows its stack draining a large queue when the last subscriber leaves): until a second passes with nothing new, at most maxMs. */
async function drain(maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  const total = (): number => counters.viewerState + counters.viewerBriefs + counters.viewerEvents;
  let seen = -1;
  let still = Date.now();
  while (viewer && Date.now() < end && Date.now() - still < 1000) {
    if (total() !== seen) { seen = total(); still = Date.now(); }
    await sleep(100);
  }
}

async function quit(): Promise<void> {
  stopLoad();
  if (probeTimer) clearInterval(probeTimer);
  await prober?.endAsync(true).catch(() => undefined);
  await viewer?.endAsync(true).catch(() => undefined);
  await Promise.all(fleet.map((l) => l.client.endAsync(true).catch(() => undefined)));
  process.exit(0);
}

let config: FleetConfig | null = null;
process.on('message', (m: ToChild) => {
  const fail = (e: unknown): void => send({ type: 'error', message: (e as Error).message });
  if (m.type === 'init') { config = m.config; init(m.config).catch(fail); }
  else if (m.type === 'load') { if (m.on && config) startLoad(config); else stopLoad(); }
  else if (m.type === 'stats') {
    const cpu = process.cpuUsage();
    send({ type: 'stats', stats: { ...counters, probeMs: probeMs.slice(), cpuUs: cpu.user + cpu.system, heapUsed: process.memoryUsage().heapUsed } });
  } else if (m.type === 'drain') drain(m.maxMs).then(() => send({ type: 'drained' }), fail);
  else if (m.type === 'quit') void quit();
});
