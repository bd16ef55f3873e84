/**
 * The dashboard's MQTT client (cloud/dashboard/public/mqtt-lite.js) against the embedded broker
 * over WebSocket: subscribe and receive, QoS 1 publish with PUBACK reaching a robot, a refused
 * login not retried, a viewer's command refused by the broker, a publish queued while offline.
 */
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttLite } from '../../cloud/dashboard/public/mqtt-lite.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';

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
    viewer.publish('spinal/v1/f/r1/cmd/reset/vic', '{}', { qos: 1, retain: false }, (err) => { outcome = err ? err.message : 'acked'; });
    await until('the broker closes the viewer', () => outcome !== '');
    expect(outcome).toBe('connection lost before the broker acknowledged');
    expect(broker.denials).toContainEqual({ username: 'vic', action: 'publish', topic: 'spinal/v1/f/r1/cmd/reset/vic' });
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
