/** The state summary contract the dashboard reads: what it accepts and what it refuses. */
import { describe, expect, it } from 'vitest';
import { encodePayload } from './decode.js';
import type { RecorderStatus } from '../recording/channels.js';
import { StateSummarySchema, type StateSummary } from './payloads.js';

const base = {
  v: 1, robot: 'r1', at: 1_700_000_000_000, seq: 42,
  safety: { state: 'ACTIVE', latched: false },
  sent: { mode: 'position', position: [0.1, -0.2], velocity: [0, 0.5], ageMs: 2.5 },
  link: { state: 'READY', rxFrames: 10, errors: 0, lastFrameAgeMs: 1.2 },
  fleetLatch: false,
};
const full = {
  ...base,
  measured: { position: [0.1001, -0.1999], velocity: [0.001, 0.498] },
  imu: { roll: 0.01, pitch: -0.02, yaw: 1.5708, gyro: [0.001, 0, -0.002], accel: [0.05, -0.1, 9.806] },
  metrics: { loopLatenessP99Ms: 0.213, decoderMs: 8.4, cloudLatencyMs: 31.07, planAgeMs: 120.5 },
  task: 'pick up the red cube',
  recording: { recording: true, diskBytes: 123_456_789, quotaBytes: 10_000_000_000, files: 3, episode: 7, blackBoxSaves: 1, dropped: 0, error: null },
};
type Json = Record<string, unknown>;
/** `full` with one nested value replaced. */
function withValue(path: readonly string[], value: unknown): Json {
  const copy = structuredClone(full) as Json;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Json;
  at[path[path.length - 1] as string] = value;
  return copy;
}
const parse = (v: unknown): boolean => StateSummarySchema.safeParse(v).success;

describe('StateSummarySchema', () => {
  it('accepts a summary with every new field, and keeps their values', () => {
    const r = StateSummarySchema.safeParse(full);
    expect(r.success).toBe(true);
    expect(r.data).toEqual(full);
  });

  it('carries the flight recorder\'s status as RecorderStatus, or null without a recorder', () => {
    const fits: RecorderStatus = (StateSummarySchema.parse(full).recording ?? null) as NonNullable<StateSummary['recording']>;
    expect(fits.diskBytes).toBe(123_456_789);
    expect(parse(withValue(['recording'], null))).toBe(true);
    expect(parse(withValue(['recording', 'episode'], null))).toBe(true);
    expect(parse(withValue(['recording', 'diskBytes'], -1))).toBe(false);
    expect(StateSummarySchema.safeParse(withValue(['recording', 'files'], 'three')).error?.issues[0]?.path).toEqual(['recording', 'files']);
  });

  it('accepts a summary from an edge that sends none of the new fields (each is optional)', () => {
    expect(parse(base)).toBe(true);
  });

  it('accepts the nulls an edge sends before its first STATE, without an IMU, plan, brain or task', () => {
    expect(parse({
      ...base, sent: null, measured: null, imu: null, task: null,
      metrics: { loopLatenessP99Ms: null, decoderMs: null, cloudLatencyMs: null, planAgeMs: null },
    })).toBe(true);
  });

  it('accepts 64 joints and refuses 65 in measured', () => {
    const n = (k: number): number[] => new Array<number>(k).fill(0.5);
    expect(parse(withValue(['measured'], { position: n(64), velocity: n(64) }))).toBe(true);
    expect(parse(withValue(['measured', 'position'], n(65)))).toBe(false);
    expect(parse(withValue(['measured', 'velocity'], n(65)))).toBe(false);
  });

  it.each([
    ['NaN in measured.position', ['measured', 'position'], [0, Number.NaN]],
    ['Infinity in measured.velocity', ['measured', 'velocity'], [Number.POSITIVE_INFINITY, 0]],
    ['NaN roll', ['imu', 'roll'], Number.NaN],
    ['-Infinity yaw', ['imu', 'yaw'], Number.NEGATIVE_INFINITY],
    ['NaN in gyro', ['imu', 'gyro'], [0, Number.NaN, 0]],
    ['a gyro of two axes', ['imu', 'gyro'], [0, 0]],
    ['an accel of four axes', ['imu', 'accel'], [0, 0, 9.8, 0]],
    ['a string in accel', ['imu', 'accel'], [0, '0', 9.8]],
    ['a negative lateness', ['metrics', 'loopLatenessP99Ms'], -0.1],
    ['a NaN decode time', ['metrics', 'decoderMs'], Number.NaN],
    ['an infinite cloud latency', ['metrics', 'cloudLatencyMs'], Number.POSITIVE_INFINITY],
    ['a negative plan age', ['metrics', 'planAgeMs'], -1],
    ['a metric left out (null is how "none" is said)', ['metrics'], { loopLatenessP99Ms: 0.2, decoderMs: 8, cloudLatencyMs: 30 }],
    ['a task of 201 characters', ['task'], 'x'.repeat(201)],
    ['a task that is a number', ['task'], 7],
    ['an unknown key in measured', ['measured', 'effort'], [0, 0]],
    ['an unknown key in imu', ['imu', 'quat'], [1, 0, 0, 0]],
    ['an unknown key in metrics', ['metrics', 'cpu'], 0.5],
    ['an unknown top-level key', ['battery'], 0.9],
  ])('refuses %s', (_what, path, value) => {
    expect(parse(withValue(path, value))).toBe(false);
  });

  it('accepts a task of exactly 200 characters', () => {
    expect(parse(withValue(['task'], 'x'.repeat(200)))).toBe(true);
  });

  it('non-finite numbers cannot travel: JSON turns them into null, which the schema refuses', () => {
    const json = JSON.parse(encodePayload(withValue(['measured', 'position'], [Number.NaN, 0])).toString('utf8')) as unknown;
    expect(parse(json)).toBe(false);
  });
});
