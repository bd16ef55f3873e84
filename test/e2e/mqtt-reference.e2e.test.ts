/**
 * Every example in docs/mqtt.md, run as written: the `mosquitto_pub` command the reference prints
 * is parsed back (topic, QoS, retain, payload, with `$(date +%s%3N)` evaluated), published by its
 * user through the embedded broker with the fleet's accounts and ACL, and the robot (virtual
 * firmware + SerialLink + SafetySupervisor + RobotMqtt, as the daemon composes them) must publish
 * the safety event the reference says it will.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { systemClock } from '../../edge/clock.js';
import { EmbeddedBroker, RobotMqtt } from '../../edge/mqtt/index.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { bindSupervisor } from '../../edge/safety/supervisor-bindings.js';
import { EXAMPLE, TOPICS, mosquittoPub } from '../../proto/reference/mqtt-topics.js';
import { connectUser } from './mqtt-harness.js';
import { startRig, waitFor, type Rig } from './link-harness.js';

const PASSWORDS: Record<string, string> = { [EXAMPLE.robot]: 'r1-secret', [EXAMPLE.operator]: 'alice-secret', bob: 'bob-secret', [EXAMPLE.viewer]: 'vic-secret' };

let broker: EmbeddedBroker;
let rig: Rig;
let supervisor: SafetySupervisor;
let unbind: () => void;
let mqtt: RobotMqtt;
const users = new Map<string, MqttClient>();
const events: Record<string, unknown>[] = [];

beforeAll(async () => {
  broker = await EmbeddedBroker.start({
    fleet: EXAMPLE.fleet,
    robots: [{ id: EXAMPLE.robot, password: PASSWORDS[EXAMPLE.robot] as string }],
    operators: [{ name: EXAMPLE.operator, password: 'alice-secret' }, { name: 'bob', password: 'bob-secret' }],
    viewers: [{ name: EXAMPLE.viewer, password: 'vic-secret' }],
  });
  // A 1 s MCU watchdog: this test is about MQTT, and a stall of the shared machine must not trip it.
  rig = await startRig({ profile: 'arm6-gripper' }, { watchdogMs: 1000 });
  await waitFor('serial link READY', () => rig.link.state === 'READY', 10_000);
  supervisor = new SafetySupervisor(rig.link, systemClock);
  unbind = bindSupervisor(supervisor, rig.link, null);
  mqtt = new RobotMqtt({
    url: broker.url, fleet: EXAMPLE.fleet, robot: EXAMPLE.robot, username: EXAMPLE.robot, password: PASSWORDS[EXAMPLE.robot] as string, software: '0.1.0',
    wire: rig.link, estop: supervisor, reset: supervisor, resume: supervisor, safety: supervisor, keepaliveS: 1, reconnectPeriodMs: 100,
  });
  // The robot's subscriptions are granted asynchronously after it connects: wait for the broker
  // to report them (aedes' 'subscribe' event) rather than for time to pass.
  const aedes = (broker as unknown as { aedes: { on(ev: 'subscribe', fn: (subs: unknown[], client: { id: string } | null) => void): void } }).aedes;
  let subscribed = false;
  aedes.on('subscribe', (_subs, client) => { if (client?.id === `spinal-${EXAMPLE.fleet}-${EXAMPLE.robot}`) subscribed = true; });
  mqtt.start();
  const watcher = await connectUser(broker.url, EXAMPLE.viewer, 'vic-secret');
  users.set('watcher', watcher);
  watcher.on('message', (_topic, payload) => events.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>));
  await watcher.subscribeAsync(`spinal/v1/${EXAMPLE.fleet}/${EXAMPLE.robot}/event`, { qos: 1 });
  await waitFor('the robot subscribed to its commands', () => mqtt.connected && subscribed, 10_000);
}, 60_000);

afterAll(async () => {
  for (const c of users.values()) await c.endAsync(true);
  await mqtt?.stop();
  unbind?.();
  supervisor?.dispose();
  await rig?.dispose();
  await broker?.close();
});

/** The parts of a documented `mosquitto_pub` command line, as the shell would pass them. */
function parseMosquittoPub(cmd: string): { user: string; topic: string; qos: 0 | 1; retain: boolean; payload: string } {
  const user = /-u (\S+)/.exec(cmd)?.[1];
  const topic = /-t '([^']+)'/.exec(cmd)?.[1];
  const qos = /-q ([012])/.exec(cmd)?.[1];
  const message = /-m "((?:[^"\\]|\\.)*)"$/.exec(cmd)?.[1];
  if (!user || !topic || !qos || message === undefined) throw new Error(`not a mosquitto_pub line this test can read: ${cmd}`);
  const payload = message.replace(/\\"/g, '"').replace(/\$\(date \+%s%3N\)/g, String(Date.now()));
  return { user, topic, qos: Number(qos) as 0 | 1, retain: / -r /.test(cmd), payload };
}

async function user(name: string): Promise<MqttClient> {
  const known = users.get(name);
  if (known) return known;
  const c = await connectUser(broker.url, name, PASSWORDS[name]);
  users.set(name, c);
  return c;
}

const examples = TOPICS.flatMap((t) => t.examples);

describe('docs/mqtt.md examples', () => {
  it('has examples for e-stop, malformed e-stop, fleet latch and release, reset, forged reset, resume and episode mark', () => {
    expect(examples.map((e) => e.effect.kind)).toEqual(['estop-received', 'estop-received', 'fleet-latch', 'fleet-latch', 'reset-accepted', 'reset-refused', 'resume-refused', 'episode-refused']);
  });

  // In document order: the e-stops latch the robot, the fleet latch is released, then the reset clears it.
  it.each(examples.map((e) => [e.title, e] as const))('%s', async (_title, e) => {
    const cmd = mosquittoPub(e);
    const p = parseMosquittoPub(cmd);
    expect(p).toMatchObject({ user: e.user, topic: e.topic, qos: e.qos, retain: e.retain });
    const from = events.length;
    const client = await user(p.user);
    await client.publishAsync(p.topic, p.payload, { qos: p.qos, retain: p.retain });
    const matches = (ev: Record<string, unknown>): boolean => Object.entries(e.effect).every(([k, v]) => ev[k] === v);
    await waitFor(`event ${JSON.stringify(e.effect)} after ${cmd}`, () => events.slice(from).some(matches), 10_000);
  }, 30_000);
});
