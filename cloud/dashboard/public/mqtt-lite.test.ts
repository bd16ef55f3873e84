import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../edge/mqtt/broker/embedded-broker.js';
import { MqttLite, PacketReader, encodeConnect, encodePublish, encodeSubscribe, remainingLength } from './mqtt-lite.js';

function parse(bytes: Uint8Array): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => { throw e; });
  parser.parse(Buffer.from(bytes));
  return out;
}

describe('mqtt-lite encoding', () => {
  it('writes CONNECT, PUBLISH and SUBSCRIBE that a reference MQTT parser reads back', () => {
    expect(parse(encodeConnect({ clientId: 'dash-1', username: 'olga', password: 'pä', keepaliveS: 10 }))[0])
      .toMatchObject({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 10, clientId: 'dash-1', username: 'olga' });
    const payload = new TextEncoder().encode('x'.repeat(300));
    const pub = parse(encodePublish('spinal/v1/f/all/cmd/estop', payload, { qos: 1, retain: true, id: 513 }))[0];
    expect(pub).toMatchObject({ cmd: 'publish', topic: 'spinal/v1/f/all/cmd/estop', qos: 1, retain: true, messageId: 513 });
    expect((pub as mqttPacket.IPublishPacket).payload.toString()).toBe('x'.repeat(300));
    expect(parse(encodeSubscribe(7, 'spinal/v1/f/#', 1))[0]).toMatchObject({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'spinal/v1/f/#', qos: 1 }] });
    expect(remainingLength(127)).toEqual([127]);
    expect(remainingLength(128)).toEqual([0x80, 1]);
    expect(remainingLength(16_383)).toEqual([0xff, 0x7f]);
    expect(() => remainingLength(268_435_456)).toThrow(/out of range/);
  });

  it('splits a stream into packets whatever the chunking, keeping partial packets', () => {
    const a = mqttPacket.generate({ cmd: 'publish', topic: 't/a', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false });
    const b = mqttPacket.generate({ cmd: 'publish', topic: 't/b', payload: Buffer.alloc(200, 7), qos: 1, messageId: 9, retain: true, dup: false });
    const all = Buffer.concat([a, b, a]);
    for (const cut of [1, 2, 3, 7, all.length - 1]) {
      const r = new PacketReader();
      const got: { type: number; len: number }[] = [];
      r.push(all.subarray(0, cut), (p) => got.push({ type: p.type, len: p.body.length }));
      r.push(all.subarray(cut), (p) => got.push({ type: p.type, len: p.body.length }));
      expect(got.map((g) => g.type)).toEqual([3, 3, 3]);
      expect(got[1]?.len).toBe(b.length - 3);
    }
    expect(() => new PacketReader().push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), () => undefined)).toThrow(/malformed/);
  });
});

let broker: EmbeddedBroker | null = null;
const clients: { end(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.end();
  await broker?.close();
  broker = null;
});

const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'rp' }], operators: [{ name: 'olga', password: 'op' }], viewers: [{ name: 'vic', password: 'vp' }] };
const until = async (what: string, pred: () => boolean): Promise<void> => {
  const end = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('mqtt-lite against the embedded broker over WebSocket', () => {
  it('subscribes and receives, publishes QoS 1 with PUBACK, and a robot gets the command', async () => {
    broker = await EmbeddedBroker.start({ ...accounts, port: 0, ws: { port: 0 } });
    const robot = await mqtt.connectAsync(broker.url, { username: 'r1', password: 'rp' });
    clients.push({ end: () => robot.end(true) });
    const got: string[] = [];
    await robot.subscribeAsync('spinal/v1/f/all/cmd/#', { qos: 1 });
    robot.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    const seen: string[] = [];
    const states: string[] = [];
    const lite = new MqttLite({
      url: broker.wsUrl ?? '', clientId: 'dash-test', username: 'olga', password: 'op', WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      subscribe: { filter: 'spinal/v1/f/#', qos: 1 },
      onMessage: (topic, payload) => seen.push(`${topic} ${new TextDecoder().decode(payload)}`),
      onState: (s) => states.push(s),
    });
    clients.push(lite);
    await until('connected', () => lite.connected);
    await new Promise((r) => setTimeout(r, 100)); // SUBACK
    await robot.publishAsync('spinal/v1/f/r1/state', '{"seq":1}', { qos: 0 });
    await until('state at the dashboard', () => seen.includes('spinal/v1/f/r1/state {"seq":1}'));
    let acked = false;
    expect(lite.publish('spinal/v1/f/all/cmd/estop', '{"stop":1}', { qos: 1, retain: true }, (err) => { acked = err === undefined; })).toBe(true);
    await until('PUBACK', () => acked);
    await until('the robot got the e-stop', () => got.includes('spinal/v1/f/all/cmd/estop {"stop":1}'));
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('reports a refused login once and does not retry; a viewer\'s command is refused by the broker', async () => {
    broker = await EmbeddedBroker.start({ ...accounts, port: 0, ws: { port: 0 } });
    const states: string[] = [];
    const bad = new MqttLite({ url: broker.wsUrl ?? '', clientId: 'x', username: 'olga', password: 'wrong', WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket, reconnectMs: 50, onState: (s, d) => states.push(`${s}: ${d}`) });
    clients.push(bad);
    await until('refused', () => states.some((s) => s.startsWith('refused')));
    await new Promise((r) => setTimeout(r, 300));
    expect(states.filter((s) => s.startsWith('connecting'))).toHaveLength(1);
    expect(states).toContain('refused: bad username or password');

    const viewer = new MqttLite({ url: broker.wsUrl ?? '', clientId: 'v', username: 'vic', password: 'vp', WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    clients.push(viewer);
    await until('viewer connected', () => viewer.connected);
    let outcome = '';
    viewer.publish('spinal/v1/f/r1/cmd/reset', '{}', { qos: 1, retain: false }, (err) => { outcome = err ? err.message : 'acked'; });
    await until('the broker closes the viewer', () => outcome !== '');
    expect(outcome).toBe('connection lost before the broker acknowledged');
    expect(broker.denials).toContainEqual({ username: 'vic', action: 'publish', topic: 'spinal/v1/f/r1/cmd/reset' });
  });

  it('queues a publish made while disconnected and sends it on connection', async () => {
    broker = await EmbeddedBroker.start({ ...accounts, port: 0, ws: { port: 0 } });
    const robot = await mqtt.connectAsync(broker.url, { username: 'r1', password: 'rp' });
    clients.push({ end: () => robot.end(true) });
    const got: string[] = [];
    await robot.subscribeAsync('spinal/v1/f/r1/cmd/#', { qos: 1 });
    robot.on('message', (t) => got.push(t));
    const lite = new MqttLite({ url: broker.wsUrl ?? '', clientId: 'q', username: 'olga', password: 'op', WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    clients.push(lite);
    expect(lite.publish('spinal/v1/f/r1/cmd/estop', '{}', { qos: 1, retain: false })).toBe(false);
    await until('delivered after connecting', () => got.includes('spinal/v1/f/r1/cmd/estop'));
  });
});
