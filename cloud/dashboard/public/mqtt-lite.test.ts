import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketReader, encodeConnect, encodePublish, encodeSubscribe, remainingLength } from './mqtt-lite.js';

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
