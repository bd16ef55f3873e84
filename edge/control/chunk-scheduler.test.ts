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
  // These tests pin the measured-state alignment (chunk aligned to the observation's capture);
  // the schedule's state and its alignment are tested on their own below.
  const sched = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy, initialLatencyUs: 50_000, latencyMarginUs: 10_000, requestState: 'measured', ...extra });
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

describe('ChunkScheduler: a request continues the schedule (requestState)', () => {
  /** A decoder that continues a straight path from the state it is given: 0.01 rad per row. */
  const continuing = (state: ArrayLike<number>): Float32Array => chunk((h, j) => (state[j] as number) + 0.01 * (h + 1));
  const LAT = 100_000;

  function started(requestState: 'schedule' | 'measured') {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'hard', initialLatencyUs: LAT, requestState });
    const state = new Float64Array(A);
    // The first request sees a robot at rest with nothing scheduled: the measurement; from the
    // schedule, that chunk starts when it arrives (the robot did not move meanwhile): no row lost.
    const r = s.requestState(1_000_000, 999_000, [0, 0], state);
    expect(r).toEqual({ originUs: 999_000, fromSchedule: false });
    s.requestIssued(1_000_000, r.originUs, r.fromSchedule);
    expect(s.accept(continuing(state), r.originUs, 1_000_000 + LAT)).toBe(true);
    if (requestState === 'measured') return s; // aligned to the observation, as before (5 rows dropped)
    const out = new Float64Array(A);
    s.sample(1_000_000 + LAT, out);
    expect(out[0]).toBeCloseTo(0.01, 6); // row 0 is due on arrival: one step from where the robot was
    s.sample(1_000_000 + LAT + 3 * STEP, out);
    expect(out[0]).toBeCloseTo(0.04, 6);
    return s;
  }

  /** The jump at the next switch when the robot lags the schedule by `lagRad` at the observation. */
  function jumpAtSwitch(s: ChunkScheduler, lagRad: number): { fromSchedule: boolean; jump: number } {
    const reqUs = 1_200_000, obsUs = reqUs - 1000;
    const scheduled = new Float64Array(A);
    s.sample(obsUs, scheduled);
    const state = new Float64Array(A);
    const r = s.requestState(reqUs, obsUs, Array.from(scheduled, (x) => x - lagRad), state);
    s.requestIssued(reqUs, r.originUs, r.fromSchedule);
    const arrive = reqUs + LAT;
    const before = new Float64Array(A), after = new Float64Array(A);
    s.sample(arrive, before);
    s.accept(continuing(state), r.originUs, arrive);
    s.sample(arrive, after);
    return { fromSchedule: r.fromSchedule, jump: Math.abs((after[0] as number) - (before[0] as number)) };
  }

  it('from the schedule: the state is the scheduled target at the expected arrival, and the next chunk continues the last', () => {
    const s = started('schedule');
    const state = new Float64Array(A);
    const r = s.requestState(1_200_000, 1_199_000, [0.0, 0.0], state); // lagging 0.045 rad: still following
    expect(r).toEqual({ originUs: 1_200_000 + LAT, fromSchedule: true });
    const expected = new Float64Array(A);
    s.sample(1_200_000 + LAT, expected);
    expect(Array.from(state)).toEqual(Array.from(expected));
    const { fromSchedule, jump } = jumpAtSwitch(started('schedule'), 0.02);
    expect(fromSchedule).toBe(true);
    expect(jump).toBeLessThan(1e-6);
  });

  it('from the measurement, the servo lag reappears as a jump back at every switch', () => {
    const { fromSchedule, jump } = jumpAtSwitch(started('measured'), 0.02);
    expect(fromSchedule).toBe(false);
    // The 0.02 rad the robot lagged at the observation. (This decoder continues in time from its
    // origin; one that reads its progress along the plan from the state, as the reference decoder
    // does, also restarts the rows run while it decoded: `spinal eval --suite faults`.)
    expect(jump).toBeCloseTo(0.02, 6);
    // And the schedule's state does not jump: see the test before.
    expect(jumpAtSwitch(started('schedule'), 0.02).jump).toBeLessThan(1e-6);
  });

  it('a robot off the schedule (held, blocked, pushed) is decoded from where it is, and its chunk starts on arrival', () => {
    const s = started('schedule');
    const { fromSchedule, jump } = jumpAtSwitch(s, 0.5); // beyond the 0.2 rad default
    expect(fromSchedule).toBe(false);
    // The chunk starts from the measurement, its row 0 due on arrival: 0.5 rad behind the schedule
    // at the observation, which moved on 101 ms (5.05 rows of 0.01 rad) until the arrival, less row 0's step.
    expect(jump).toBeCloseTo(0.5 + 0.01 * (LAT + 1000) / STEP - 0.01, 6);
  });
});

describe('ChunkScheduler: an observation that stands still (stalled estimator)', () => {
  it('a chunk as old as the newest (same observation, a later plan) is taken, an older one refused', () => {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'hard', requestState: 'measured' });
    const out = new Float64Array(A);
    expect(s.accept(chunk(() => 1), 1_000_000, 1_050_000)).toBe(true);
    expect(s.accept(chunk(() => 2), 1_000_000, 1_100_000)).toBe(true);
    s.sample(1_100_000, out);
    expect(out[0]).toBe(2);
    expect(s.accept(chunk(() => 3), 999_999, 1_120_000)).toBe(false);
  });

  it('from the schedule, origins move on with the request time even when the observation does not', () => {
    const s = new ChunkScheduler({ jointCount: A, horizon: H, stepUs: STEP, policy: 'hard', initialLatencyUs: 50_000 });
    s.accept(chunk((h) => 0.01 * h), 1_000_000, 1_000_000);
    const state = new Float64Array(A);
    const a = s.requestState(1_100_000, 1_050_000, [0, 0], state);
    const b = s.requestState(1_150_000, 1_050_000, [0, 0], state);
    expect(a.fromSchedule && b.fromSchedule).toBe(true);
    expect(b.originUs - a.originUs).toBe(50_000);
  });
});
