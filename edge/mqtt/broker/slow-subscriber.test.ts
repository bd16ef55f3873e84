/**
 * One subscriber that stops reading (a frozen dashboard tab, a weak link) must not hold back other
 * clients' messages: aedes delivers through one queue and waits for each socket to drain, so the
 * embedded broker disconnects a socket that has not drained within drainTimeoutMs. Checked here
 * with an operator's e-stop to a robot while a flood piles up behind a frozen viewer. (The stall
 * itself showed in the dashboard-load benchmark; this small rig did not reproduce it without the
 * timeout, so the test guards the delivery, not the mechanism.)
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { robotTopics } from '../../../proto/mqtt/index.js';
import { EmbeddedBroker } from './embedded-broker.js';

const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'rp' }], operators: [{ name: 'olga', password: 'op' }], viewers: [{ name: 'vic', password: 'vp' }] };
let broker: EmbeddedBroker | null = null;
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await broker?.close();
  broker = null;
});

/** A dashboard-like viewer over WebSocket that subscribes to the whole fleet and then never reads again. */
async function frozenViewer(url: string): Promise<void> {
  const ws = new WebSocket(url, ['mqtt']);
  cleanup.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  ws.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: 'frozen', username: 'vic', password: Buffer.from('vp') }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve())); // CONNACK
  ws.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'spinal/v1/f/#', qos: 0 }] }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve())); // SUBACK
  (ws as unknown as { _socket: Socket })._socket.pause();
}

async function estopDeliveredWhileFlooded(drainTimeoutMs: number, waitMs: number): Promise<boolean> {
  broker = await EmbeddedBroker.start({ ...accounts, port: 0, ws: { port: 0 }, drainTimeoutMs });
  await frozenViewer(broker.wsUrl ?? '');
  const robot = await mqtt.connectAsync(broker.url, { username: 'r1', password: 'rp', reconnectPeriod: 0 });
  cleanup.push(() => robot.end(true));
  const operator = await mqtt.connectAsync(broker.url, { username: 'olga', password: 'op', reconnectPeriod: 0 });
  cleanup.push(() => operator.end(true));
  const topics = robotTopics('f', 'r1');
  await robot.subscribeAsync(topics.commands, { qos: 1 });
  let got = false;
  robot.on('message', (t) => { if (t === topics.estop) got = true; });
  // ~48 MB of telemetry: far more than the frozen socket's kernel buffers take.
  const chunk = Buffer.alloc(16 * 1024, 0x41);
  for (let i = 0; i < 3000; i++) robot.publish(topics.state, chunk, { qos: 0 });
  // Let the flood fill the frozen socket's buffers first.
  await new Promise((r) => setTimeout(r, 1500));
  operator.publish(topics.estop, '{"v":1}', { qos: 1 });
  const end = Date.now() + waitMs;
  while (!got && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return got;
}

describe('embedded broker with a subscriber that stops reading', () => {
  it('still delivers an operator\'s e-stop to the robot (the frozen socket is dropped)', async () => {
    await expect(estopDeliveredWhileFlooded(250, 10_000)).resolves.toBe(true);
  }, 30_000);
});
