import { describe, expect, it } from 'vitest';
import { McuClockUnwrapper } from './mcu-clock-unwrapper.js';
import { TimeSync } from './time-sync.js';

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Synthetic { offsetUs: number; driftPpm: number }
const mcuAt = (c: Synthetic, hostUs: number): number => hostUs * (1 + c.driftPpm * 1e-6) + c.offsetUs;

/**
 * Runs exchanges every `periodMs`: path delays up/down are `baseUs` plus `jitterUs`·rand each way,
 * and with probability `outlierP` one direction gets an extra `outlierUs` (a queued USB transfer).
 */
function exchange(ts: TimeSync, c: Synthetic, n: number, o: { periodMs: number; baseUs: number; jitterUs: number; outlierP?: number; outlierUs?: number; seed?: number; startUs?: number }): number {
  const r = rng(o.seed ?? 1);
  let host = o.startUs ?? 5_000_000;
  for (let i = 0; i < n; i++) {
    const up = o.baseUs + o.jitterUs * r() + (r() < (o.outlierP ?? 0) ? (o.outlierUs ?? 0) : 0);
    const down = o.baseUs + o.jitterUs * r() + (r() < (o.outlierP ?? 0) ? (o.outlierUs ?? 0) : 0);
    const t0 = host;
    const t1 = Math.round(mcuAt(c, t0 + up));
    const t2 = t1 + 30;
    const t3 = t0 + up + down + 30 / (1 + c.driftPpm * 1e-6);
    ts.addSample(t0, t1 >>> 0, t2 >>> 0, t3);
    host += o.periodMs * 1000;
  }
  return host;
}

describe('McuClockUnwrapper', () => {
  it('unwraps across 2^32 and tolerates small steps back', () => {
    const u = new McuClockUnwrapper();
    expect(u.unwrap(0xffff_ff00)).toBe(0xffff_ff00);
    expect(u.unwrap(0x0000_0100)).toBe(2 ** 32 + 0x100);
    expect(u.unwrap(0xffff_fff0)).toBe(0xffff_fff0); // late frame from before the wrap
    expect(u.unwrap(0x0000_0200)).toBe(2 ** 32 + 0x200);
    for (let i = 1; i <= 5; i++) expect(u.unwrap((i * 0x7000_0000) >>> 0)).toBe(2 ** 32 + i * 0x7000_0000);
    u.reset();
    expect(u.unwrap(5)).toBe(5);
  });
});

describe('TimeSync', () => {
  it('recovers offset and drift from clean samples within a microsecond', () => {
    const c = { offsetUs: 123_456_789, driftPpm: -35 };
    const ts = new TimeSync();
    const end = exchange(ts, c, 64, { periodMs: 100, baseUs: 200, jitterUs: 0 });
    const s = ts.stats();
    expect(s.converged).toBe(true);
    expect(s.driftPpm).toBeCloseTo(-35, 1);
    for (const host of [end - 3_000_000, end, end + 1_000_000]) {
      expect(Math.abs(ts.mcuUnwrappedToHostUs(mcuAt(c, host)) - host)).toBeLessThan(1.5);
      expect(Math.abs(ts.hostToMcuUs(host) - mcuAt(c, host))).toBeLessThan(1.5);
    }
    expect(s.residualStdUs).toBeLessThan(1);
  });

  it('stays within a few µs with jitter and large RTT outliers', () => {
    const c = { offsetUs: -2_000_000, driftPpm: 120 };
    const ts = new TimeSync();
    const end = exchange(ts, c, 200, { periodMs: 250, baseUs: 150, jitterUs: 10, outlierP: 0.3, outlierUs: 4000, seed: 7 });
    const s = ts.stats();
    expect(Math.abs(s.driftPpm - 120)).toBeLessThan(0.5);
    expect(Math.abs(ts.mcuUnwrappedToHostUs(mcuAt(c, end)) - end)).toBeLessThan(5);
    expect(s.minRttUs).toBeLessThan(320); // 2 × 150 µs base path delay
    // A naive average over all samples would be off by hundreds of µs.
  });

  it('maps raw 32-bit MCU times correctly across the wrap', () => {
    const c = { offsetUs: 2 ** 32 - 2_000_000 - 5_000_000, driftPpm: 20 }; // wraps 2 s into the run
    const ts = new TimeSync();
    const end = exchange(ts, c, 40, { periodMs: 100, baseUs: 100, jitterUs: 0 });
    const mcu = mcuAt(c, end);
    expect(mcu).toBeGreaterThan(2 ** 32);
    expect(Math.abs(ts.mcuToHostUs(Math.round(mcu) >>> 0) - end)).toBeLessThan(1.5);
  });

  it('rejects impossible samples and reports NaN before any sample', () => {
    const ts = new TimeSync();
    expect(ts.mcuToHostUs(100)).toBeNaN();
    expect(ts.stats().offsetUs).toBeNaN();
    expect(ts.addSample(1000, 500, 400, 1200)).toBe(false); // answered before it received
    expect(ts.addSample(1000, 500, 600, 1050)).toBe(false); // negative round trip
    expect(ts.sampleCount).toBe(0);
    expect(ts.converged).toBe(false);
  });
});
