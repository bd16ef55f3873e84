import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttLite, PacketReader, encodeConnect, encodePublish, encodeSubscribe, encodeUnsubscribe, remainingLength } from './mqtt-lite.js';

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

/** A WebSocket stand-in: records what the client sends, and lets the test answer as the broker. */
class FakeSocket {
  static last: FakeSocket | null = null;
  static onCreate: ((s: FakeSocket) => void) | null = null;
  binaryType = 'arraybuffer';
  sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: ArrayBuffer }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor() { FakeSocket.last = this; FakeSocket.onCreate?.(this); }
  send(b: Uint8Array): void { this.sent.push(b); }
  close(): void { this.onclose?.(); }
  /** CONNACK, accepted. */
  accept(): void { this.onmessage?.({ data: new Uint8Array([0x20, 2, 0, 0]).buffer }); }
  packets(): mqttPacket.Packet[] { return this.sent.flatMap((b) => parse(b)); }
}

describe('mqtt-lite subscriptions', () => {
  it('writes UNSUBSCRIBE that a reference parser reads back', () => {
    expect(parse(encodeUnsubscribe(9, 'spinal/v1/f/r1/state'))[0]).toMatchObject({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['spinal/v1/f/r1/state'] });
  });

  it('holds its filters: subscribes on connect, adds and drops one at run time, and sends only those held after a reconnect', async () => {
    const client = new MqttLite({
      url: 'ws://x/mqtt', clientId: 'c', keepaliveS: 10, reconnectMs: 0, WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      subscriptions: [{ filter: 'spinal/v1/f/+/brief', qos: 0 }, { filter: 'spinal/v1/f/+/event', qos: 1 }],
    });
    const first = FakeSocket.last as FakeSocket;
    first.onopen?.();
    first.accept();
    const subs = (s: FakeSocket): string[] => s.packets().flatMap((p) => (p.cmd === 'subscribe' ? p.subscriptions.map((x) => `${x.topic}@${x.qos}`) : []));
    expect(subs(first)).toEqual(['spinal/v1/f/+/brief@0', 'spinal/v1/f/+/event@1']);
    client.subscribe('spinal/v1/f/r1/state', 0);
    client.subscribe('spinal/v1/f/r1/state', 0); // already held: nothing sent
    client.unsubscribe('spinal/v1/f/r1/state');
    client.subscribe('spinal/v1/f/r2/state', 0);
    client.unsubscribe('spinal/v1/f/never-held/state'); // not held: nothing sent
    expect(first.packets().filter((p) => p.cmd === 'unsubscribe').map((p) => (p as mqttPacket.IUnsubscribePacket).unsubscriptions)).toEqual([['spinal/v1/f/r1/state']]);
    expect(subs(first).slice(2)).toEqual(['spinal/v1/f/r1/state@0', 'spinal/v1/f/r2/state@0']);
    // The connection drops and comes back (the client reopens from its reconnect timer): the filters held now, and only those.
    const reopened = new Promise<FakeSocket>((resolve) => {
      // Created inside open(), which sets its handlers right after: take it once open() returned.
      FakeSocket.onCreate = (second) => { FakeSocket.onCreate = null; queueMicrotask(() => resolve(second)); };
    });
    first.close();
    const second = await reopened;
    second.onopen?.();
    second.accept();
    expect(subs(second)).toEqual(['spinal/v1/f/+/brief@0', 'spinal/v1/f/+/event@1', 'spinal/v1/f/r2/state@0']);
    client.end();
  });
});
