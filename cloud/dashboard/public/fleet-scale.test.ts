/**
 * What lets the dashboard hold a large fleet: the overview from briefs, stale samples dropped
 * instead of queued, plots decimated to their pixels, and only the visible rows built.
 */
import { describe, expect, it } from 'vitest';
import { briefOf, StateSummarySchema } from '../../../proto/mqtt/index.js';
import { FleetModel, SampleRing, type RobotRecord } from './fleet-model.js';
import { decimatedColumns } from './plot-decimation.js';
import { VirtualRows } from './virtual-rows.js';
import { detailOf, rowOf } from './telemetry-worker.js';

const summary = (seq: number, at: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1, robot: 'r1', at, seq,
  safety: { state: 'ACTIVE', latched: false },
  sent: { mode: 'position', position: [seq, -seq], velocity: [0, 0], ageMs: 1 },
  measured: { position: [seq, -seq], velocity: [0, 0] },
  link: { state: 'READY', rxFrames: 10 * seq, errors: 0 },
  metrics: { loopLatenessP99Ms: 0.2, decoderMs: 8, cloudLatencyMs: 30, planAgeMs: 100 },
  fleetLatch: false, task: 'wave', ...extra,
});
/** The model's record of `id`, which the test has just fed. */
function rec(m: FleetModel, id = 'r1'): RobotRecord {
  const r = m.robots.get(id);
  if (!r) throw new Error(`no record of ${id}`);
  return r;
}
const brief = (seq: number, at: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify(briefOf(StateSummarySchema.parse(summary(seq, at, extra)), seq));

describe('the overview from briefs', () => {
  it('shows a robot known only by its brief as online, with its safety, mode, task and figures', () => {
    const m = new FleetModel('f');
    expect(m.handle('spinal/v1/f/r1/brief', brief(1, 5000, { safety: { state: 'HOLD', latched: true, cause: 'plan-expired' } }), 10_000)).toBe(true);
    const r = rec(m);
    expect(FleetModel.presence(r, 10_500)).toBe('online');
    expect(rowOf(r, 'online')).toMatchObject({
      id: 'r1', safety: 'HOLD', latched: true, cause: 'plan-expired', mode: 'position', task: 'wave', link: 'READY',
      brainMs: 30, latenessMs: 0.2, decoderMs: 8, seq: null, rxFrames: null,
    });
    expect(r.ring).toBeNull();
  });

  it('takes the newer of brief and summary for the overview of the robot shown in detail', () => {
    const m = new FleetModel('f');
    m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(1, 1000)), 0);
    m.handle('spinal/v1/f/r1/brief', brief(2, 2000, { safety: { state: 'ESTOP', latched: true } }), 0);
    expect(FleetModel.overview(rec(m)).safety).toBe('ESTOP');
    m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(3, 3000, { safety: { state: 'IDLE', latched: false } })), 0);
    expect(FleetModel.overview(rec(m)).safety).toBe('IDLE');
    expect(rowOf(rec(m), 'online')).toMatchObject({ seq: 3, rxFrames: 30 });
  });

  it('refuses a brief without a safety state, and drops an older brief than the one held', () => {
    const m = new FleetModel('f');
    expect(m.handle('spinal/v1/f/r1/brief', JSON.stringify({ v: 1, seq: 1, at: 1 }), 0)).toBe(false);
    expect(m.rejected).toBe(1);
    m.handle('spinal/v1/f/r1/brief', brief(2, 2000), 0);
    expect(m.handle('spinal/v1/f/r1/brief', brief(1, 1000, { safety: { state: 'ESTOP', latched: true } }), 0)).toBe(true);
    expect(m.stale).toBe(1);
    expect(FleetModel.overview(rec(m)).safety).toBe('ACTIVE');
  });
});

describe('stale samples', () => {
  it('are dropped, not plotted or queued: a summary not newer than the last plotted changes nothing', () => {
    const m = new FleetModel('f', { ringCapacity: 16 });
    for (const at of [1000, 1050, 1100]) m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(at / 50, at)), 0);
    const r = rec(m);
    const version = r.version;
    // A late duplicate and an out-of-order one (what a reconnect or a backed-up broker delivers).
    expect(m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(22, 1100)), 0)).toBe(true);
    expect(m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(21, 1050)), 0)).toBe(true);
    expect(m.stale).toBe(2);
    expect(r.ring?.count).toBe(3);
    expect(r.version).toBe(version);
    expect(r.summary.seq).toBe(22);
    m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(23, 1150)), 0);
    expect(r.ring?.count).toBe(4);
    expect(r.ring?.columns([0])[0]).toEqual([1, 1.05, 1.1, 1.15]);
  });

  it('are freed when the robot is no longer shown in detail', () => {
    const m = new FleetModel('f');
    m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(1, 1000)), 0);
    m.dropRing('r1');
    const r = rec(m);
    expect([r.ring, r.summary, r.joints]).toEqual([null, null, 0]);
    // Shown again later: samples start afresh, an older time than before is not stale any more.
    m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(1, 900)), 0);
    expect(r.ring?.count).toBe(1);
  });
});

describe('plot decimation', () => {
  const ring = (times: number[], rows: number[][]): SampleRing => {
    const r = new SampleRing(Math.max(1, times.length), rows[0]?.length ?? 1);
    times.forEach((t, i) => r.push(t, rows[i] as number[]));
    return r;
  };

  it('passes data through unchanged up to two points per pixel', () => {
    const r = ring([1, 2, 3, 4], [[1], [2], [NaN], [4]]);
    expect(decimatedColumns(r, [0], 2)).toEqual([[1, 2, 3, 4], [1, 2, null, 4]]);
    expect(decimatedColumns(r, [0], 2, 10)).toEqual([[1, 2, 3, 4], [10, 20, null, 40]]);
  });

  it('keeps at most two points per pixel, with each bucket\'s minimum and maximum in the order they occurred', () => {
    const n = 1200;
    const times = Array.from({ length: n }, (_, i) => i / 20);
    // A slow sine with one spike up and one down that a naive every-k-th sample would miss.
    const values = times.map((t, i) => [i === 601 ? 50 : i === 907 ? -50 : Math.sin(t / 5)]);
    const r = ring(times, values);
    for (const px of [10, 100, 333, 599]) {
      const [t, v] = decimatedColumns(r, [0], px) as [number[], number[]];
      expect(t.length).toBeLessThanOrEqual(2 * px);
      expect(t.length).toBe(v.length);
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1] as number);
      expect(Math.max(...v)).toBe(50);
      expect(Math.min(...v)).toBe(-50);
      expect(t[0]).toBe(0);
      expect(t[t.length - 1]).toBe((n - 1) / 20);
    }
    // A bucket holding a rise shows it as min then max; a fall as max then min.
    const rise = ring([0, 1, 2, 3, 4, 5], [[0], [1], [2], [3], [4], [5]]);
    expect(decimatedColumns(rise, [0], 1)).toEqual([[0, 5], [0, 5]]);
    const fall = ring([0, 1, 2, 3, 4, 5], [[5], [4], [3], [2], [1], [0]]);
    expect(decimatedColumns(fall, [0], 1)).toEqual([[0, 5], [5, 0]]);
  });

  it('decimates every series of a chart on the same times, and shows a bucket of unknowns as a gap', () => {
    const times = Array.from({ length: 40 }, (_, i) => i);
    const r = ring(times, times.map((i) => [i, -i, i < 20 ? NaN : 1]));
    const [t, a, b, c] = decimatedColumns(r, [0, 1, 2], 5) as number[][];
    expect([a?.length, b?.length, c?.length]).toEqual([t?.length, t?.length, t?.length]);
    expect(t?.length).toBeLessThanOrEqual(10);
    expect(c?.[0]).toBeNull();
    expect(c?.[c.length - 1]).toBe(1);
  });

  it('is what the worker sends for the robot shown in detail: columns no longer than twice the chart width', () => {
    const m = new FleetModel('f');
    for (let i = 1; i <= 1000; i++) m.handle('spinal/v1/f/r1/state', JSON.stringify(summary(i, 1000 + 50 * i)), 0);
    const d = detailOf(rec(m), 1, 200);
    expect(d.samples).toBe(1000);
    expect(d.lastT).toBe((1000 + 50 * 1000) / 1000);
    for (const cols of [d.positions, d.commanded, d.imu]) for (const col of cols ?? []) expect(col.length).toBeLessThanOrEqual(400);
    expect(d.positions?.length).toBe(3); // times + 2 joints
    expect(d.commanded?.length).toBe(3); // times + commanded + measured of joint 2
  });
});

describe('virtualised rows', () => {
  it('keeps ids in robot order, digits compared as numbers', () => {
    const v = new VirtualRows(30);
    for (const id of ['robot10', 'robot2', 'robot1', 'robot100', 'robot2', 'arm']) v.add(id);
    expect(v.ids).toEqual(['arm', 'robot1', 'robot2', 'robot10', 'robot100']);
  });

  it('draws only the rows in view (and a few beyond), with spacers for the rest', () => {
    const v = new VirtualRows(30, 4);
    for (let i = 1; i <= 1000; i++) v.add(`robot${i}`);
    const top = v.range(0, 450);
    expect(top).toEqual({ first: 0, end: 19, top: 0, bottom: (1000 - 19) * 30 });
    const mid = v.range(30 * 500, 450);
    expect(mid.first).toBe(496);
    expect(mid.end).toBe(519);
    expect(mid.top + (mid.end - mid.first) * 30 + mid.bottom).toBe(1000 * 30);
    expect(v.ids[mid.first + 4]).toBe('robot501');
    const end = v.range(30 * 1000, 450);
    expect(end.end).toBe(1000);
    expect(end.bottom).toBe(0);
    // However long the list, the rows built depend on the viewport only.
    expect(v.range(30 * 123, 450).end - v.range(30 * 123, 450).first).toBe(23);
  });

  it('copes with an empty list, a negative scroll and refuses a row height that is not positive', () => {
    expect(new VirtualRows(30).range(-50, 400)).toEqual({ first: 0, end: 0, top: 0, bottom: 0 });
    expect(() => new VirtualRows(0)).toThrow(/row height 0 px/);
  });
});
