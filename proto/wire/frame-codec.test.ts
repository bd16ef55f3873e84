import { describe, expect, it } from 'vitest';
import { CommandMode, MAX_PACKET, MsgType, StateFlag } from './constants.js';
import { FrameDecoder, type Frame, type FrameErrorKind } from './frame-decoder.js';
import { FrameEncoder, MAX_ENCODED_FRAME } from './frame-encoder.js';
import { readFrame } from './message-reader.js';
import { WireEncodeError, newCommand, newConfig, newMessage, newState, type MessageMap } from './messages.js';
import { canonicalText } from './canonical.js';
import type { MsgType as MsgTypeT } from './constants.js';

interface Got { type: number; seq: number; timeUs: number; text: string }

function collect(decoder: FrameDecoder, errors: FrameErrorKind[] = []): { got: Got[]; sink: { onFrame(f: Frame): void; onFrameError(k: FrameErrorKind): void } } {
  const got: Got[] = [];
  return {
    got,
    sink: {
      onFrame(f: Frame): void {
        const t = f.type as MsgTypeT;
        const msg = newMessage(t);
        const err = readFrame(f, t, msg);
        got.push({ type: f.type, seq: f.seq, timeUs: f.timeUs, text: err ?? canonicalText(t, f.seq, f.timeUs, msg) });
      },
      onFrameError(k: FrameErrorKind): void {
        errors.push(k);
      },
    },
  };
}

function sample(): { type: MsgTypeT; msg: MessageMap[MsgTypeT] }[] {
  const s = newState();
  s.jointCount = 12; s.flags = StateFlag.IMU | StateFlag.ORIENTATION; s.status = 5;
  for (let j = 0; j < 12; j++) { s.position[j] = (j - 6) * 100000; s.velocity[j] = j / 8; s.current[j] = -j; }
  s.quat.set([0.5, 0.5, 0.5, 0.5]);
  const c = newCommand();
  c.jointCount = 7; c.mode = CommandMode.VELOCITY;
  for (let j = 0; j < 7; j++) { c.position[j] = j; c.velocity[j] = -j * 2; c.feedforward[j] = 0.5; }
  const cfg = newConfig();
  cfg.jointCount = 2; cfg.watchdogMs = 50; cfg.stateRateHz = 500; cfg.posMin.set([-5, -6]); cfg.posMax.set([5, 6]); cfg.velMax.set([1, 2]); cfg.currentMax.set([3, 4]);
  return [
    { type: MsgType.HELLO, msg: { protoMajor: 1, protoMinor: 0, fwMajor: 2, fwMinor: 3, fwPatch: 4, jointCount: 12, role: 1, capabilities: 3, profileId: 'quadruped12', deviceId: 99 } },
    { type: MsgType.STATE, msg: s },
    { type: MsgType.COMMAND, msg: c },
    { type: MsgType.HEARTBEAT, msg: { hostState: 3 } },
    { type: MsgType.ESTOP, msg: { category: 1, source: 4, reason: 12 } },
    { type: MsgType.RESET, msg: { what: 1, token: 0xffffffff } },
    { type: MsgType.TIME_SYNC_REQ, msg: { id: 5 } },
    { type: MsgType.TIME_SYNC_RESP, msg: { id: 5, mcuRxUs: 10, mcuTxUs: 20 } },
    { type: MsgType.CONFIG, msg: cfg },
    { type: MsgType.ACK, msg: { ackedType: 9, result: 0, ackedSeq: 3, detail: 0 } },
    { type: MsgType.LOG, msg: { level: 3, text: 'over-temperature on joint 4' } },
  ];
}

describe('frame encoder and decoder', () => {
  it('round-trips every message type field for field', () => {
    const enc = new FrameEncoder();
    const dec = new FrameDecoder();
    const { got, sink } = collect(dec);
    const msgs = sample();
    msgs.forEach(({ type, msg }, i) => dec.push(enc.encode(type, msg, 1000 + i), sink));
    expect(got.map((g) => g.text)).toEqual(msgs.map(({ type, msg }, i) => canonicalText(type, i, 1000 + i, msg)));
    expect(dec.counters).toMatchObject({ frames: msgs.length, resyncs: 0, seqLost: 0 });
  });

  it('re-encodes decoded frames to the same bytes', () => {
    for (const { type, msg } of sample()) {
      const bytes = new FrameEncoder({ firstSeq: 77 }).encode(type, msg, 123456);
      const dec = new FrameDecoder();
      let again: Buffer | undefined;
      dec.push(bytes, {
        onFrame(f) {
          const t = f.type as MsgTypeT;
          const m = newMessage(t);
          expect(readFrame(f, t, m)).toBeNull();
          again = new FrameEncoder({ firstSeq: f.seq }).encode(t, m, f.timeUs);
        },
      });
      expect(again).toEqual(bytes);
    }
  });

  it('gives the same frames for every chunking of a stream', () => {
    const enc = new FrameEncoder();
    const parts = [];
    for (let r = 0; r < 20; r++) for (const { type, msg } of sample()) parts.push(enc.encode(type, msg, r));
    const stream = Buffer.concat(parts);
    const reference = collect(new FrameDecoder());
    new FrameDecoder().push(stream, reference.sink);
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 48271) % 0x7fffffff) % n);
    for (let trial = 0; trial < 30; trial++) {
      const dec = new FrameDecoder();
      const { got, sink } = collect(dec);
      for (let i = 0; i < stream.length;) {
        const n = 1 + rnd(trial < 10 ? 4 : 400);
        dec.push(stream.subarray(i, i + n), sink);
        i += n;
      }
      expect(got).toEqual(reference.got);
    }
    expect(reference.got.length).toBe(220);
  });

  it('decodes a push larger than the kernel window (64 KiB) and frames straddling its slices', () => {
    const enc = new FrameEncoder();
    const parts = [];
    for (let r = 0; r < 400; r++) for (const { type, msg } of sample()) parts.push(enc.encode(type, msg, r));
    const stream = Buffer.concat(parts);
    expect(stream.length).toBeGreaterThan(3 * 65536);
    const dec = new FrameDecoder();
    const { got, sink } = collect(dec);
    dec.push(stream, sink);
    expect(got.length).toBe(4400);
    expect(dec.counters).toMatchObject({ frames: 4400, resyncs: 0, seqLost: 0, bytes: stream.length });
  });

  it('treats frames above its maxPacket as oversized', () => {
    const errors: FrameErrorKind[] = [];
    const dec = new FrameDecoder({ maxPacket: 64 });
    const { got, sink } = collect(dec, errors);
    const enc = new FrameEncoder();
    for (const { type, msg } of sample()) dec.push(enc.encode(type, msg, 0), sink);
    expect(got.map((g) => g.type)).toEqual([MsgType.HELLO, MsgType.HEARTBEAT, MsgType.ESTOP, MsgType.RESET, MsgType.TIME_SYNC_REQ, MsgType.TIME_SYNC_RESP, MsgType.CONFIG, MsgType.ACK, MsgType.LOG]);
    expect(errors).toEqual(['oversized', 'oversized']);
  });

  it('counts lost frames by sequence number across the 16-bit wrap', () => {
    const enc = new FrameEncoder({ firstSeq: 65530 });
    const frames = Array.from({ length: 12 }, (_, i) => enc.encode(MsgType.HEARTBEAT, { hostState: 0 }, i));
    const dec = new FrameDecoder();
    const { got, sink } = collect(dec);
    frames.forEach((f, i) => { if (![2, 5, 6, 7].includes(i)) dec.push(f, sink); });
    expect(got.map((g) => g.seq)).toEqual([65530, 65531, 65533, 65534, 2, 3, 4, 5]);
    expect(dec.counters.seqLost).toBe(4);
    expect(dec.counters.seqRewinds).toBe(0);
    dec.push(new FrameEncoder({ firstSeq: 0 }).encode(MsgType.HEARTBEAT, { hostState: 0 }, 0), sink);
    expect(dec.counters.seqRewinds).toBe(1);
  });

  it('resynchronises after garbage at the next delimiter, losing at most the frame it hit', () => {
    const enc = new FrameEncoder();
    const a = enc.encode(MsgType.HEARTBEAT, { hostState: 1 }, 1);
    const b = enc.encode(MsgType.HEARTBEAT, { hostState: 2 }, 2);
    const c = enc.encode(MsgType.HEARTBEAT, { hostState: 3 }, 3);
    const d = enc.encode(MsgType.HEARTBEAT, { hostState: 4 }, 4);
    const errors: FrameErrorKind[] = [];
    const dec = new FrameDecoder();
    const { got, sink } = collect(dec, errors);
    // Garbage before a merges into a; a cut-off copy of b (no delimiter) merges into c.
    dec.push(Buffer.concat([Buffer.from([1, 2, 3, 4, 5]), a, b, b.subarray(0, 5), c, d]), sink);
    expect(got.map((g) => g.seq)).toEqual([1, 3]);
    expect(errors).toEqual(['crc', 'crc']);
    expect(dec.counters).toMatchObject({ frames: 2, resyncs: 2, crcErrors: 2, seqLost: 1 });
  });

  it('discards oversized segments with bounded memory and recovers', () => {
    const errors: FrameErrorKind[] = [];
    const dec = new FrameDecoder();
    const { got, sink } = collect(dec, errors);
    const junk = Buffer.alloc(50_000, 0x41);
    for (let i = 0; i < junk.length; i += 1000) dec.push(junk.subarray(i, i + 1000), sink);
    dec.push(Buffer.concat([Buffer.from([0]), new FrameEncoder().encode(MsgType.HEARTBEAT, { hostState: 0 }, 0)]), sink);
    expect(errors).toEqual(['oversized']);
    expect(dec.counters.discardedBytes).toBe(50_000);
    expect(got.length).toBe(1);
  });

  it('survives a fuzz run of random bytes without throwing and accepts nothing', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const dec = new FrameDecoder();
    let accepted = 0;
    const chunk = new Uint8Array(4096);
    for (let k = 0; k < 500; k++) {
      // Sparse zeros give long segments, dense zeros many short ones.
      const zeroRate = k % 2 ? 0.002 : 0.05;
      for (let i = 0; i < chunk.length; i++) chunk[i] = rnd() < zeroRate ? 0 : 1 + Math.floor(rnd() * 255);
      dec.push(chunk, { onFrame: () => { accepted++; } });
    }
    expect(accepted).toBe(0);
    expect(dec.counters.bytes).toBe(500 * 4096);
    expect(dec.counters.resyncs).toBeGreaterThan(1000);
    expect(dec.counters.frames).toBe(0);
  });

  it('refuses to encode commands with bad numbers, naming the joint and value, without using a sequence number', () => {
    const enc = new FrameEncoder();
    const c = newCommand();
    c.jointCount = 3; c.mode = CommandMode.POSITION;
    c.velocity[1] = Number.NaN;
    expect(() => enc.encode(MsgType.COMMAND, c, 0)).toThrow(new WireEncodeError('COMMAND.velocity[1]=NaN is not a finite number'));
    c.velocity[1] = 0; c.feedforward[2] = Number.POSITIVE_INFINITY;
    expect(() => enc.encode(MsgType.COMMAND, c, 0)).toThrow(/feedforward\[2\]=Infinity/);
    c.feedforward[2] = 0; c.mode = 9;
    expect(() => enc.encode(MsgType.COMMAND, c, 0)).toThrow(/COMMAND.mode=9/);
    c.mode = 2; c.jointCount = 40;
    expect(() => enc.encode(MsgType.COMMAND, c, 0)).toThrow(/jointCount=40/);
    expect(() => enc.encode(MsgType.ESTOP, { category: 3, source: 0, reason: 0 }, 0)).toThrow(/ESTOP.category=3/);
    expect(() => enc.encode(MsgType.HELLO, { ...(sample()[0]?.msg as MessageMap[typeof MsgType.HELLO]), profileId: 'x'.repeat(25) }, 0)).toThrow(/profileId/);
    expect(enc.nextSeq).toBe(0);
  });

  it('keeps the largest frame within MAX_PACKET and its encoded bound', () => {
    const cfg = newConfig();
    cfg.jointCount = 32;
    const buf = new Uint8Array(MAX_ENCODED_FRAME);
    const n = new FrameEncoder().encodeInto(MsgType.CONFIG, cfg, 0, buf);
    expect(n).toBeLessThanOrEqual(MAX_ENCODED_FRAME);
    expect(8 + 8 + 32 * 16 + 4).toBeLessThanOrEqual(MAX_PACKET);
  });
});
