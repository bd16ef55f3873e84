/** The windowed tick-lateness statistic: selection, the mailbox's recent-sample copy, the loop's p99. */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import { AckResult, type AckMsg } from '../../proto/wire/index.js';
import { systemClock } from '../clock.js';
import { ObservationBuffer } from '../estimation/observation-buffer.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { CommandMailbox, Word } from './command-mailbox.js';
import { ControlLoop } from './control-loop.js';
import { quantileInPlace } from './quantile.js';
import { FakeDecoder } from './testing/fake-decoder.js';

/** Nearest rank by sorting, the definition quantileInPlace must match. */
function byRank(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

/** Deterministic pseudo-random numbers (LCG). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('quantileInPlace', () => {
  it('is the nearest-rank quantile of the first n values', () => {
    const a = Float64Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(quantileInPlace(a.slice(), 100, 0.99)).toBe(99);
    expect(quantileInPlace(a.slice(), 100, 0.5)).toBe(50);
    expect(quantileInPlace(a.slice(), 100, 1)).toBe(100);
    expect(quantileInPlace(a.slice(), 100, 0)).toBe(1);
    expect(quantileInPlace(Float64Array.of(7, 1e9), 1, 0.99)).toBe(7); // values past n are not looked at
  });

  it('matches sorting on random, duplicated, sorted and constant inputs of many sizes', () => {
    const rnd = lcg(1);
    for (let n = 1; n <= 300; n += 7) {
      const inputs = [
        Array.from({ length: n }, () => rnd() * 1000 - 100),
        Array.from({ length: n }, () => Math.floor(rnd() * 4)),
        Array.from({ length: n }, (_, i) => i),
        new Array<number>(n).fill(3),
      ];
      for (const v of inputs) {
        for (const q of [0, 0.01, 0.5, 0.9, 0.99, 1]) expect(quantileInPlace(Float64Array.from(v), n, q)).toBe(byRank(v, q));
      }
    }
  });

  it('refuses an empty or oversized count and a q outside 0..1', () => {
    expect(() => quantileInPlace(new Float64Array(4), 0, 0.5)).toThrow(RangeError);
    expect(() => quantileInPlace(new Float64Array(4), 5, 0.5)).toThrow(RangeError);
    expect(() => quantileInPlace(new Float64Array(4), 4, 1.5)).toThrow(RangeError);
    expect(() => quantileInPlace(new Float64Array(4), 4, Number.NaN)).toThrow(RangeError);
  });
});

describe('CommandMailbox.recentLateness', () => {
  it('copies the newest samples first, at most the window, across the ring\'s wrap', () => {
    const mb = CommandMailbox.create(2, 8);
    const out = new Float64Array(5);
    expect(mb.recentLateness(out)).toBe(0);
    for (let i = 1; i <= 3; i++) mb.recordLateness(i);
    expect(mb.recentLateness(out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([3, 2, 1]);
    for (let i = 4; i <= 11; i++) mb.recordLateness(i); // 11 samples into a ring of 8
    expect(mb.recentLateness(out)).toBe(5);
    expect(Array.from(out)).toEqual([11, 10, 9, 8, 7]);
    expect(mb.recentLateness(new Float64Array(20))).toBe(8); // bounded by the ring
  });

  it('skips non-finite slots', () => {
    const mb = CommandMailbox.create(1, 8);
    for (const v of [1, Number.NaN, 3, Number.POSITIVE_INFINITY, 5]) mb.recordLateness(v);
    const out = new Float64Array(8);
    expect(mb.recentLateness(out)).toBe(3);
    expect(Array.from(out.subarray(0, 3))).toEqual([5, 3, 1]);
  });

  it('keeps recording and reading once the Int32 sample counter passes 2^31 (25 days at 1 kHz)', () => {
    const mb = CommandMailbox.create(1, 8);
    Atomics.store(mb.words, Word.LATE_IDX, 2 ** 31 - 2); // as if that many ticks had passed
    for (let i = 1; i <= 5; i++) mb.recordLateness(i * 10);
    expect(Atomics.load(mb.words, Word.LATE_IDX)).toBeLessThan(0); // the Int32 view wrapped
    const out = new Float64Array(4);
    expect(mb.recentLateness(out)).toBe(4);
    expect(Array.from(out)).toEqual([50, 40, 30, 20]);
    expect(mb.latenessSamples().length).toBe(8);
  });
});

describe('ControlLoop.recentLatenessUs', () => {
  const profile = getProfile('arm6-gripper');
  const n = profile.joints.length;
  const wire = {
    sendCommand: (): boolean => true,
    sendEstop: (): boolean => true,
    sendReset: (): Promise<AckMsg> => Promise.resolve({ result: AckResult.OK } as AckMsg),
  };
  /** A loop that is never started: the test plays the tick worker through the mailbox. */
  const loopAt = (rateHz: number): ControlLoop => new ControlLoop({
    profile, rateHz, decoder: new FakeDecoder(systemClock, 16, n, 1, () => 0), observation: ObservationBuffer.create(n),
    link: wire, supervisor: new SafetySupervisor(wire, systemClock), latent: () => null,
    scheduler: { horizon: 16, stepUs: 20_000, policy: 'hard', initialLatencyUs: 50_000 },
  });

  it('is null before the first tick, then the p99 of the last 2 s of ticks only', () => {
    const loop = loopAt(200); // window: 400 ticks
    expect(loop.recentLatenessUs(0.99)).toBeNull();
    for (let i = 0; i < 1000; i++) loop.mailbox.recordLateness(5000); // an old stall, out of the window
    for (let i = 1; i <= 400; i++) loop.mailbox.recordLateness(i);
    expect(loop.recentLatenessUs(0.99)).toBe(396);
    expect(loop.recentLatenessUs(0.5)).toBe(200);
    loop.mailbox.recordLateness(9000); // one new spike: within the top 1 %, so p99 barely moves
    expect(loop.recentLatenessUs(0.99)).toBe(397);
    expect(loop.recentLatenessUs(1)).toBe(9000);
  });

  it('keeps at least 100 ticks at low rates', () => {
    const loop = loopAt(10); // 2 s would be 20 ticks
    for (let i = 1; i <= 150; i++) loop.mailbox.recordLateness(i);
    expect(loop.recentLatenessUs(0)).toBe(51);
  });
});
