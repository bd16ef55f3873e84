/**
 * MQTT over WebSocket (what the browser dashboard speaks: mqtt.js, ws://host:port/mqtt, MQTT 3.1.1)
 * against the embedded broker and a real Mosquitto: the WebSocket listener enforces the same
 * accounts and ACL as the TCP one that robots use, binds only the host asked for, and is gone
 * once the broker stops.
 */
import { connect as tcpConnect } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodePayload, robotTopics } from '../../proto/mqtt/index.js';
import { EstopSource } from '../../proto/wire/index.js';
import type { EstopEvent } from '../../firmware-shim/virtual/virtual-robot.js';
import { connectUser, PASSWORDS, startBroker, startMqttRobot, type BrokerKind, type MqttRobot, type TestBroker } from './mqtt-harness.js';
import { sleep, waitFor } from './link-harness.js';

const r1 = robotTopics('f', 'r1');
const estop = (category: number) => encodePayload({ v: 1, kind: 'estop', id: `e-${Math.random()}`, category, operator: 'alice', at: Date.now() });
const reset = (operator = 'alice') => encodePayload({ v: 1, kind: 'reset', id: `r-${Math.random()}`, operator, at: Date.now() });

/** A dashboard user over WebSocket, as the browser connects; rejects if refused or closed before CONNACK. */
async function wsUser(url: string | null, username: string, password = PASSWORDS[username] ?? ''): Promise<MqttClient> {
  if (url === null) throw new Error('broker started without websockets');
  const client = await connectAsync(url, {
    protocolVersion: 4, username, password, reconnectPeriod: 0, connectTimeout: 3000,
    clientId: `${username}-ws-${Math.random().toString(16).slice(2, 8)}`,
  }, false);
  client.on('error', () => undefined);
  return client;
}

function acceptsAt(host: string, url: string | null): Promise<boolean> {
  const port = Number(new URL(url ?? 'ws://x:0').port);
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

describe.each<BrokerKind>(['embedded', 'mosquitto'])('MQTT over WebSocket through the %s broker', (kind) => {
  let broker: TestBroker;
  let robot: MqttRobot | null = null;
  const users: MqttClient[] = [];
  const user = async (name: string, password?: string): Promise<MqttClient> => {
    const c = await wsUser(broker.wsUrl, name, password);
    users.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startBroker(kind, { websockets: true });
  });
  afterEach(async () => {
    for (const c of users.splice(0)) c.end(true);
    await robot?.dispose();
    robot = null;
  });
  afterAll(async () => {
    await broker.stop();
  });

  /** A robot on TCP (virtual firmware, serial link, RobotMqtt). Motion under e-stop is
   * mqtt-estop.e2e's subject; here what matters is which messages cross the two listeners. */
  async function runningRobot(): Promise<{ r: MqttRobot; estops: EstopEvent[] }> {
    const r = await startMqttRobot(broker.url);
    robot = r;
    const estops: EstopEvent[] = [];
    r.rig.robot.on('estop', (e) => estops.push(e));
    await waitFor('robot MQTT connected', () => r.mqtt.connected);
    await sleep(100); // subscriptions granted
    return { r, estops };
  }

  it('the robot\'s telemetry over TCP reaches a viewer over WebSocket', async () => {
    await runningRobot();
    const vic = await user('vic');
    const states: { v?: number; robot?: string; seq?: number }[] = [];
    vic.on('message', (topic, payload) => { if (topic === r1.state) states.push(JSON.parse(payload.toString()) as { v?: number }); });
    await vic.subscribeAsync(r1.state, { qos: 0 });
    await waitFor('state at the WebSocket viewer', () => states.length >= 3, 3000);
    expect(states[0]).toMatchObject({ v: 1, robot: 'r1' });
    expect(states[2]?.seq).toBeGreaterThan(states[0]?.seq ?? Infinity);
  });

  it('an operator\'s e-stop over WebSocket stops a robot on TCP', async () => {
    const { r, estops } = await runningRobot();
    const alice = await user('alice');
    await alice.publishAsync(r1.estop, estop(1), { qos: 1 });
    await waitFor('ESTOP frame at the firmware', () => estops.length > 0, 3000);
    expect(estops[0]).toMatchObject({ category: 1, source: EstopSource.REMOTE });
    expect(r.rig.robot.estopLatched).toBe(true);
    expect(r.supervisor.stops.at(-1)).toMatchObject({ scope: 'robot', category: 1, malformed: false });
  });

  it('a viewer over WebSocket can neither reset nor stop the robot; an operator over WebSocket can reset', async () => {
    const { r } = await runningRobot();
    const vic = await user('vic');
    const vicClosed = new Promise<boolean>((resolve) => { vic.once('close', () => resolve(true)); setTimeout(() => resolve(false), 1000); });
    vic.publish(r1.resetBy('vic'), reset('vic'), { qos: 0 });
    vic.publish(r1.estop, estop(0), { qos: 0 });
    // aedes closes a client whose publish it refuses; Mosquitto (MQTT 3.1.1) drops the message silently.
    expect(await vicClosed).toBe(kind === 'embedded');
    await sleep(300);
    expect(r.supervisor.resets).toEqual([]);
    expect(r.supervisor.stops).toEqual([]);
    expect(r.rig.robot.estopLatched).toBe(false);
    const alice = await user('alice');
    await alice.publishAsync(r1.resetBy('alice'), reset(), { qos: 1 });
    await waitFor('operator reset delivered', () => r.supervisor.resets.length === 1);
    expect(r.supervisor.resets[0]).toEqual({ id: 'alice', role: 'operator' });
  });

  it('reads outside an account\'s ACL never reach it over WebSocket', async () => {
    /** SUBACK return codes, whether the broker grants or refuses. */
    const suback = (c: MqttClient, filter: string): Promise<number[] | undefined> => c.subscribeAsync(filter, { qos: 1 })
      .then((g) => g.map((x) => x.qos), (e: { packet?: { granted?: number[] } }) => e.packet?.granted);
    // aedes refuses at SUBACK; Mosquitto's acl_file grants every subscription and checks each
    // delivery against the reader's `topic read` rules instead.
    const refused = kind === 'embedded' ? [0x80] : [1];
    const vic = await user('vic');
    expect(await suback(vic, 'spinal/v1/other/#')).toEqual(refused);
    expect(await suback(vic, r1.state)).toEqual([1]);

    const r1Tcp = await connectUser(broker.url, 'r1');
    users.push(r1Tcp);
    const atR1: string[] = [];
    r1Tcp.on('message', (topic) => atR1.push(topic));
    expect(await suback(r1Tcp, r1.commands)).toEqual([1]);
    const r2 = await user('r2');
    const atR2: string[] = [];
    r2.on('message', (topic) => atR2.push(topic));
    expect(await suback(r2, r1.commands)).toEqual(refused);
    const alice = await user('alice');
    await alice.publishAsync(r1.estop, estop(0), { qos: 1 });
    await waitFor('e-stop at robot r1', () => atR1.includes(r1.estop));
    await sleep(200);
    expect(atR2).toEqual([]);
  });

  it('a bad password or unknown user over WebSocket is refused', async () => {
    // 3.1.1 CONNACK: 4 bad username or password (aedes), 5 not authorised (Mosquitto's choice).
    await expect(user('alice', 'not-her-password')).rejects.toMatchObject({ code: kind === 'embedded' ? 4 : 5 });
    await expect(user('mallory', 'x')).rejects.toMatchObject({ code: kind === 'embedded' ? 4 : 5 });
  });

  it('the WebSocket listener binds only the host asked for (127.0.0.1, not the whole loopback net)', async () => {
    expect(await acceptsAt('127.0.0.1', broker.wsUrl)).toBe(true);
    expect(await acceptsAt('127.0.0.2', broker.wsUrl)).toBe(false);
  });

  it('stopping the broker ends WebSocket clients and frees the WebSocket port', async () => {
    const own = await startBroker(kind, { websockets: true });
    const viewer = await wsUser(own.wsUrl, 'vic');
    const gone = new Promise<void>((resolve) => viewer.once('close', () => resolve()));
    await own.stop();
    await gone;
    expect(await acceptsAt('127.0.0.1', own.wsUrl)).toBe(false);
    viewer.end(true);
  }, 15_000);
});
