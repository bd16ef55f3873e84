import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { ChunkFeeder } from './chunk-feeder.js';
import { ChunkScheduler } from './chunk-scheduler.js';
import type { SwitchPolicy } from './switch-policy.js';
import { FakeDecoder, type Trajectory } from './testing/fake-decoder.js';
import { SimLoop } from './testing/sim-loop.js';

const H = 25, A = 2, STEP = 20_000, PERIOD = 2000;

function chunk(f: (h: number, j: number) => number): Float32Array {
  const a = new Float32Array(H * A);
  for (let h = 0; h < H; h++) for (let j = 0; j < A; j++) a[h * A + j] = f(h, j);
  return a;
}

function sim(policy: SwitchPolicy, traj: Trajectory, latencyMs = 100, extra: Partial<ConstructorParameters<typeof ChunkScheduler>[0]> = {}) {
  const clock = new ManualClock(0);
  const sched = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy, initialLatencyUs: 50_000, latencyMarginUs: 10_000, ...extra });
  const dec = new FakeDecoder(clock, H, A, latencyMs, traj);
  const feeder = new ChunkFeeder(dec, () => new Float32Array(3), A);
  const loop = new SimLoop(clock, sched, feeder, PERIOD, [0, 0]);
  loop.start();
  return { clock, sched, dec, loop };
}

/** Chunk k (0-based) is the constant 10·(k+1) on every row. */
const constantPerRequest = (): Trajectory => {
  const seen = new Map<object, number>();
  return (req) => {
    if (!seen.has(req)) seen.set(req, seen.size);
    return 10 * ((seen.get(req) ?? 0) + 1);
  };
};

describe('ChunkScheduler: alignment and dropping', () => {
  it('takes a chunk with fewer rows than its horizon (an action chunk) and covers only its rows; refuses more', () => {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'crossfade' });
    const origin = 1_000_000;
    const out = new Float64Array(A);
    expect(s.accept(Float32Array.of(1, 2, 3, 4, 5, 6), origin, origin + 1000)).toBe(true); // 3 rows
    expect(s.sample(origin + 3 * STEP, out)).toBe(true);
    expect(Array.from(out)).toEqual([5, 6]);
    expect(s.sample(origin + 3 * STEP + 1, out)).toBe(false); // past its last row: the gate holds
    expect(() => s.accept(new Float32Array((H + 1) * A), origin + 1, origin + 2)).toThrow(/expected 1\.\.25 rows of 2/);
    expect(() => s.accept(new Float32Array(3), origin + 1, origin + 2)).toThrow(RangeError);
  });

  it('aligns a chunk to the capture time of its observation and interpolates between rows', () => {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'hard' });
    const origin = 1_000_000;
    expect(s.accept(chunk((h, j) => h + 100 * j), origin, origin + 1000)).toBe(true);
    const out = new Float64Array(A);
    expect(s.sample(origin + 3 * STEP, out)).toBe(true);
    expect(Array.from(out)).toEqual([2, 102]); // row 2 targets origin + 3 steps
    s.sample(origin + 3.5 * STEP, out);
    expect(out[0]).toBeCloseTo(2.5, 12);
    expect(s.sample(origin + H * STEP + 1, out)).toBe(false); // past the last row
  });

  it('drops the rows whose time passed during decoding, and refuses stale chunks', () => {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'hard' });
    const origin = 1_000_000, now = origin + 100_000; // 100 ms of decode latency
    s.accept(chunk((h) => h), origin, now);
    expect(s.droppedRows).toBe(5);
    const out = new Float64Array(A);
    s.sample(now, out);
    expect(out[0]).toBe(4); // row 4 is due at origin + 5 steps = now: rows 0..3 never used
    expect(s.accept(chunk(() => 0), origin - 1, now)).toBe(false); // older than the newest
    expect(s.accept(chunk(() => 0), now - H * STEP - 1, now)).toBe(false); // wholly past
    expect(s.staleChunks).toBe(2);
  });
});

describe('ChunkScheduler: early requests hide decode latency', () => {
  it('requests when the chunk has latency estimate + margin left, so chunks never run out', async () => {
    const { clock, sched, loop } = sim('hard', constantPerRequest(), 100);
    await clock.advanceAsync(2000);
    const firstOk = loop.ticks.findIndex((t) => t.ok);
    expect(firstOk).toBeGreaterThan(0);
    expect(loop.ticks.slice(firstOk).every((t) => t.ok)).toBe(true);
    // The measured latency (100 ms) replaced the initial guess; lead = 100 + 10 ms margin.
    expect(sched.latencyEstimateUs()).toBe(100_000);
    expect(sched.leadUs()).toBe(110_000);
    // Each later request went out when the newest chunk had <= lead left, and its chunk arrived
    // 100 ms later, before the old one ran out.
    for (let k = 2; k < loop.requestTimesUs.length; k++) {
      const req = loop.requestTimesUs[k] as number, acc = loop.acceptTimesUs[k - 1] as number;
      const oldEnd = acc - 100_000 - 1000 + H * STEP; // previous chunk's origin + H steps
      expect(oldEnd - req).toBeLessThanOrEqual(110_000);
      expect(oldEnd - req).toBeGreaterThan(110_000 - PERIOD - 1000 - 1);
    }
    expect(sched.droppedRows).toBeGreaterThan(0);
  });

  it('a failed decode is retried after the retry delay, not on every tick', async () => {
    const { clock, dec, loop } = sim('hard', constantPerRequest(), 10);
    dec.failNext = 'non-finite';
    await clock.advanceAsync(25);
    expect(loop.failures).toBe(1);
    expect(loop.requestTimesUs).toHaveLength(1);
    await clock.advanceAsync(30);
    expect(loop.requestTimesUs).toHaveLength(2);
  });
});

describe('ChunkScheduler: switching policies at a switch', () => {
  async function atSecondSwitch(policy: SwitchPolicy, extra = {}) {
    const r = sim(policy, constantPerRequest(), 100, extra);
    await r.clock.advanceAsync(1200);
    const sw = r.loop.acceptTimesUs[1] as number;
    const at = (dtUs: number): number => r.loop.ticks.find((t) => t.tUs >= sw + dtUs)?.target[0] ?? NaN;
    return { ...r, at };
  }

  it('hard: the new chunk takes over at once', async () => {
    const { at } = await atSecondSwitch('hard');
    expect(at(-PERIOD)).toBe(10);
    expect(at(0)).toBe(20);
  });

  it('crossfade: old at the switch, new after the blend, smoothstep in between', async () => {
    const { at } = await atSecondSwitch('crossfade', { crossfadeUs: 40_000 });
    expect(at(0)).toBe(10);
    expect(at(20_000)).toBeCloseTo(15, 9);
    expect(at(40_000)).toBe(20);
  });

  it('ensemble (ACT): exponential weights over the overlapping chunks, the oldest weighted most', async () => {
    const m = 0.5;
    const { at } = await atSecondSwitch('ensemble', { ensembleDecay: m });
    const w1 = Math.exp(-m);
    expect(at(0)).toBeCloseTo((10 + 20 * w1) / (1 + w1), 9);
  });

  it('inpaint: the request carries the committed actions as a prefix; the switch is continuous', async () => {
    // Without a prefix every chunk restarts 3 rad off the path; with one, a (well-trained) model
    // continues from the last committed row, as the fake does here.
    const ramp: Trajectory = (req, h) => {
      const p = req.prefix;
      if (p !== undefined && p.committed > 0) return (p.actions[(p.committed - 1) * A] ?? NaN) + 0.5 * (h - p.committed + 1);
      return (req.state[0] ?? 0) + 0.5 * (h + 1) + 3;
    };
    const r = sim('inpaint', ramp, 100);
    await r.clock.advanceAsync(1200);
    const req = r.dec.requests[1];
    expect(req?.prefix?.committed).toBeGreaterThan(0);
    expect(req?.prefix?.committed).toBeLessThanOrEqual(H);
    const sw = r.loop.acceptTimesUs[1] as number;
    const i = r.loop.ticks.findIndex((t) => t.tUs >= sw);
    const before = r.loop.ticks[i - 1]?.target[0] ?? NaN, after = r.loop.ticks[i]?.target[0] ?? NaN;
    // A step of one tick along the ramp (0.5 per 20 ms row = 0.05 per 2 ms tick), no jump of 3.
    expect(Math.abs(after - before)).toBeLessThan(0.1);
    const h = sim('hard', ramp, 100);
    await h.clock.advanceAsync(1200);
    const hs = h.loop.acceptTimesUs[1] as number;
    const hi = h.loop.ticks.findIndex((t) => t.tUs >= hs);
    expect(Math.abs((h.loop.ticks[hi]?.target[0] ?? 0) - (h.loop.ticks[hi - 1]?.target[0] ?? 0))).toBeGreaterThan(1);
  });
});
