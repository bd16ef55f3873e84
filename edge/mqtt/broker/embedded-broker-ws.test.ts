/**
 * The embedded broker's WebSocket listener, with the real mqtt.js client over ws:// next to TCP
 * clients: the same accounts and ACL apply on both listeners, unknown paths are refused, and
 * close() leaves nothing listening or connected.
 */
import { connect as tcpConnect, Socket } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { WebSocket } from 'ws';
import { robotTopics } from '../../../proto/mqtt/index.js';
import type { MqttLogger } from '../ports.js';
import { EmbeddedBroker } from './embedded-broker.js';
import { freePort } from './mosquitto-process.js';

const accounts = {
  fleet: 'f',
  robots: [{ id: 'r1', password: 'r1-pw' }],
  operators: [{ name: 'alice', password: 'alice-pw' }],
  viewers: [{ name: 'vic', password: 'vic-pw' }],
};
const PASSWORDS: Record<string, string> = { r1: 'r1-pw', alice: 'alice-pw', vic: 'vic-pw' };
const r1 = robotTopics('f', 'r1');
const WAIT = { timeout: 3000, interval: 10 };

const warnings: { obj: object; msg: string | undefined }[] = [];
const logger: MqttLogger = { debug() {}, info() {}, warn: (obj, msg) => { warnings.push({ obj, msg }); }, error() {} };

let broker: EmbeddedBroker;
const clients: MqttClient[] = [];

async function user(url: string, name: string, password = PASSWORDS[name] ?? ''): Promise<MqttClient> {
  const c = await connectAsync(url, {
    protocolVersion: 4, username: name, password, reconnectPeriod: 0, connectTimeout: 3000,
    clientId: `${name}-${Math.random().toString(16).slice(2, 8)}`,
  }, false); // false: a connection closed before CONNACK rejects instead of waiting for a retry
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

function received(c: MqttClient): { topic: string; payload: string }[] {
  const seen: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  return seen;
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

/** Resolves with the HTTP status an upgrade got refused with, or the subprotocol it was accepted with. */
function upgrade(url: string, protocols: string[]): Promise<{ status: number } | { protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0 }); ws.terminate(); });
    ws.once('open', () => { resolve({ protocol: ws.protocol }); ws.terminate(); });
    ws.once('error', reject);
  });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

beforeAll(async () => {
  broker = await EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', logger, ws: { port: 0 } });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.end(true);
  vi.restoreAllMocks();
});
afterAll(async () => {
  await broker.close();
});

describe('embedded broker over WebSocket', () => {
  it('listens on ws://host:port/mqtt beside the TCP port, and only when asked', async () => {
    const wsPort = broker.wsPort;
    expect(wsPort).not.toBeNull();
    expect(wsPort).not.toBe(broker.port);
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${wsPort}/mqtt`);
    const plain = await EmbeddedBroker.start({ ...accounts });
    try {
      expect([plain.wsPort, plain.wsUrl]).toEqual([null, null]);
    } finally {
      await plain.close();
    }
  });

  it('an operator\'s e-stop over WebSocket reaches a robot on TCP; the robot\'s state reaches a viewer over WebSocket', async () => {
    const robot = await user(broker.url, 'r1');
    const atRobot = received(robot);
    await robot.subscribeAsync(r1.commands, { qos: 1 });
    const alice = await user(broker.wsUrl ?? '', 'alice');
    await alice.publishAsync(r1.estop, 'stop', { qos: 1 });
    await vi.waitFor(() => expect(atRobot).toEqual([{ topic: r1.estop, payload: 'stop' }]), WAIT);

    const vic = await user(broker.wsUrl ?? '', 'vic');
    const atViewer = received(vic);
    await vic.subscribeAsync(r1.state, { qos: 1 });
    await robot.publishAsync(r1.state, 'state-1', { qos: 1 });
    await vi.waitFor(() => expect(atViewer).toEqual([{ topic: r1.state, payload: 'state-1' }]), WAIT);
  });

  it('sends each MQTT packet whole in one WebSocket message, never a packet in pieces (a browser pays a task per message)', async () => {
    const ws = new WebSocket(broker.wsUrl ?? '', ['mqtt']);
    /** Per WebSocket message: the packets it held, parsed on its own, and the bytes left over. */
    const messages: { cmds: string[]; left: number }[] = [];
    ws.on('message', (data: Buffer) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const cmds: string[] = [];
      parser.on('packet', (p) => cmds.push(p.cmd));
      parser.on('error', () => cmds.push('error'));
      const left = parser.parse(data);
      messages.push({ cmds, left });
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    try {
      ws.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'raw-vic', keepalive: 10, username: 'vic', password: Buffer.from('vic-pw') }));
      ws.send(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: r1.state, qos: 0 }] }));
      await vi.waitFor(() => expect(messages.flatMap((m) => m.cmds)).toContain('suback'), WAIT);
      const robot = await user(broker.url, 'r1');
      for (let i = 0; i < 20; i++) await robot.publishAsync(r1.state, JSON.stringify({ i, pad: 'x'.repeat(300) }), { qos: 1 });
      await vi.waitFor(() => expect(messages.flatMap((m) => m.cmds).filter((c) => c === 'publish')).toHaveLength(20), WAIT);
      expect(messages.filter((m) => m.left !== 0 || m.cmds.length === 0 || m.cmds.includes('error'))).toEqual([]);
    } finally {
      ws.terminate();
    }
  });

  it('a viewer over WebSocket cannot reset: the broker closes its connection and delivers nothing', async () => {
    const robot = await user(broker.url, 'r1');
    const atRobot = received(robot);
    await robot.subscribeAsync(r1.commands, { qos: 1 });
    const vic = await user(broker.wsUrl ?? '', 'vic');
    const gone = closed(vic);
    vic.publish(r1.resetBy('vic'), 'reset-by-viewer', { qos: 0 });
    await gone;
    // A later permitted publish on the same topic arrives alone: the viewer's never got through.
    const alice = await user(broker.wsUrl ?? '', 'alice');
    await alice.publishAsync(r1.resetBy('alice'), 'reset-by-operator', { qos: 1 });
    await vi.waitFor(() => expect(atRobot.length).toBeGreaterThan(0), WAIT);
    await new Promise((r) => setTimeout(r, 100));
    expect(atRobot).toEqual([{ topic: r1.resetBy('alice'), payload: 'reset-by-operator' }]);
    expect(broker.denials).toContainEqual({ username: 'vic', action: 'publish', topic: r1.resetBy('vic') });
  });

  it('a subscription outside the fleet over WebSocket gets SUBACK failure (0x80)', async () => {
    const vic = await user(broker.wsUrl ?? '', 'vic');
    await expect(vic.subscribeAsync('spinal/v1/other/#', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [0x80] } });
    await expect(vic.subscribeAsync(r1.state, { qos: 1 })).resolves.toEqual([{ topic: r1.state, qos: 1 }]);
    expect(broker.denials).toContainEqual({ username: 'vic', action: 'subscribe', topic: 'spinal/v1/other/#' });
  });

  it('a bad password or unknown user over WebSocket is refused with CONNACK 4', async () => {
    await expect(user(broker.wsUrl ?? '', 'alice', 'wrong')).rejects.toMatchObject({ code: 4 });
    await expect(user(broker.wsUrl ?? '', 'mallory', 'x')).rejects.toMatchObject({ code: 4 });
  });

  it('answers an MQTT subprotocol on its path and refuses any other path with 404, naming it in the log', async () => {
    const port = broker.wsPort ?? 0;
    expect(await upgrade(`ws://127.0.0.1:${port}/mqtt`, ['mqtt'])).toEqual({ protocol: 'mqtt' });
    expect(await upgrade(`ws://127.0.0.1:${port}/mqtt`, ['chat', 'mqttv3.1'])).toEqual({ protocol: 'mqttv3.1' });
    // No MQTT subprotocol offered: the server selects none, which the client must refuse (RFC 6455 4.1).
    await expect(upgrade(`ws://127.0.0.1:${port}/mqtt`, ['chat'])).rejects.toThrow(/no subprotocol/);
    expect(await upgrade(`ws://127.0.0.1:${port}/elsewhere?x=1`, ['mqtt'])).toEqual({ status: 404 });
    expect(warnings).toContainEqual(expect.objectContaining({ obj: expect.objectContaining({ path: '/elsewhere' }) }));
    await expect(user(`ws://127.0.0.1:${port}/mqtt/extra`, 'alice')).rejects.toThrow();
  });

  it('sets TCP_NODELAY on the socket under each WebSocket', async () => {
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    await user(broker.wsUrl ?? '', 'alice');
    const serverSide = (noDelay.mock.contexts as Socket[]).flatMap((s, i) => (s.localPort === broker.wsPort ? [noDelay.mock.calls[i]?.[0]] : []));
    expect(serverSide.length).toBeGreaterThan(0);
    // setNoDelay() without an argument means true.
    expect(serverSide.every((on) => on !== false)).toBe(true);
  });

  it('honours a custom path and host', async () => {
    const b = await EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', ws: { host: '127.0.0.1', path: '/fleet-mqtt' } });
    try {
      expect(b.wsUrl).toBe(`ws://127.0.0.1:${b.wsPort}/fleet-mqtt`);
      await user(b.wsUrl ?? '', 'vic');
      expect(await upgrade(`ws://127.0.0.1:${b.wsPort}/mqtt`, ['mqtt'])).toEqual({ status: 404 });
    } finally {
      await b.close();
    }
    await expect(EmbeddedBroker.start({ ...accounts, ws: { path: 'mqtt' } })).rejects.toThrow(/must start with "\/"/);
  });

  it('close() ends WebSocket clients, silent ones and half-sent upgrades included, and frees both ports', async () => {
    const b = await EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', ws: { port: 0 } });
    const [tcpPort, wsPort] = [b.port, b.wsPort ?? 0];
    const viewer = await user(b.wsUrl ?? '', 'vic');
    const viewerGone = closed(viewer);
    // A WebSocket that never sends CONNECT is no aedes client yet; close() must end it too.
    const silent = new WebSocket(b.wsUrl ?? '', ['mqtt']);
    await new Promise<void>((r) => silent.once('open', () => r()));
    const silentGone = new Promise<void>((r) => silent.once('close', () => r()));
    const stalled = tcpConnect({ host: '127.0.0.1', port: wsPort });
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.on('error', () => undefined);
    stalled.write('GET /mqtt HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const stalledGone = new Promise<void>((r) => stalled.once('close', () => r()));
    const t0 = Date.now();
    await b.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    await Promise.all([viewerGone, silentGone, stalledGone]);
    expect(await refusesConnections(wsPort)).toBe(true);
    expect(b.wsPort).toBe(wsPort);
    expect(await refusesConnections(tcpPort)).toBe(true);
  }, 10_000);

  it('fails to start, leaving no TCP listener behind, when the WebSocket port is taken', async () => {
    const tcpPort = await freePort();
    await expect(EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', port: tcpPort, ws: { port: broker.wsPort ?? 0 } })).rejects.toThrow(/EADDRINUSE/);
    expect(await refusesConnections(tcpPort)).toBe(true);
  });
});
