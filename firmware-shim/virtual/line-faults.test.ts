import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameEncoder, MsgType } from '../../proto/wire/index.js';
import { LineFaults } from './line-faults.js';
import { TxQueue } from './tx-queue.js';

const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);

describe('LineFaults', () => {
  it('passes bytes through untouched when clean', () => {
    const f = new LineFaults(1);
    expect(f.apply(data, 10)).toEqual(data.subarray(0, 10));
  });

  it('flips bits at about the configured bit error rate, reproducibly', () => {
    const run = () => {
      const f = new LineFaults(3, { bitErrorRate: 1e-3 });
      const out = Uint8Array.from(f.apply(data, data.length));
      return { out, flips: f.counters.bitsFlipped };
    };
    const a = run(), b = run();
    expect(a.out).toEqual(b.out);
    let diffBits = 0;
    for (let i = 0; i < data.length; i++) {
      let x = (a.out[i] as number) ^ (data[i] as number);
      while (x) { diffBits += x & 1; x >>= 1; }
    }
    expect(diffBits).toBe(a.flips);
    expect(a.flips).toBeGreaterThan(640); // 800 expected
    expect(a.flips).toBeLessThan(960);
  });

  it('drops bytes and inserts garbage bursts, switchable at run time', () => {
    const f = new LineFaults(5, { dropRate: 0.01 });
    const dropped = f.apply(data, data.length).length;
    expect(data.length - dropped).toBe(f.counters.bytesDropped);
    expect(f.counters.bytesDropped).toBeGreaterThan(800);
    f.configure({ garbageRate: 0.001, garbageBurstMax: 8 });
    const grown = f.apply(data, data.length).length;
    expect(grown - data.length).toBe(f.counters.garbageBytes);
    expect(f.counters.garbageBursts).toBeGreaterThan(50);
    f.configure({});
    expect(f.active).toBe(false);
  });

  it('costs the decoder frames but never its footing', () => {
    const enc = new FrameEncoder();
    const f = new LineFaults(9, { bitErrorRate: 1e-4, dropRate: 1e-4, garbageRate: 1e-4 });
    const dec = new FrameDecoder();
    let good = 0;
    for (let i = 0; i < 2000; i++) {
      const b = enc.encode(MsgType.HEARTBEAT, { hostState: 1 }, i);
      dec.push(f.apply(b, b.length), { onFrame: () => { good++; } });
    }
    expect(good).toBeGreaterThan(1900);
    expect(good).toBeLessThan(2000);
  });
});

describe('TxQueue', () => {
  it('keeps frames whole, in order, across partial writes and a full ring', () => {
    const q = new TxQueue(1024);
    const frame = (v: number) => new Uint8Array(300).fill(v);
    expect(q.enqueue(frame(1), 300)).toBe(true);
    expect(q.enqueue(frame(2), 300)).toBe(true);
    expect(q.enqueue(frame(3), 300)).toBe(true);
    expect(q.enqueue(frame(4), 300)).toBe(false); // 1200 > 1024: dropped whole
    expect(q.counters.framesDropped).toBe(1);
    const got: number[] = [];
    let budget = 450;
    const writer = (b: Uint8Array, off: number, len: number) => {
      const n = Math.min(len, budget);
      for (let i = 0; i < n; i++) got.push(b[off + i] as number);
      budget -= n;
      return n;
    };
    q.flush(writer);
    expect(q.pending).toBe(450);
    expect(q.enqueue(frame(5), 300)).toBe(true); // wraps around the ring's end
    budget = 10_000;
    q.flush(writer);
    expect(q.pending).toBe(0);
    const runs = got.reduce<number[]>((acc, v, i) => (i === 0 || got[i - 1] !== v ? [...acc, v] : acc), []);
    expect(runs).toEqual([1, 2, 3, 5]);
    expect(got.length).toBe(1200);
  });
});
