/** The brief: a valid projection of any valid summary, its topic and ACL, and when it goes out. */
import { describe, expect, it } from 'vitest';
import { aclRules, mayPublish, maySubscribe } from './acl.js';
import { BRIEF_PERIOD_MS, BriefSchedule, StateBriefSchema, briefOf } from './brief.js';
import { StateSummarySchema, type StateSummary } from './payloads.js';
import { parseTopic, robotTopics } from './topics.js';

const base: StateSummary = {
  v: 1, robot: 'r1', at: 1_700_000_000_000, seq: 42,
  safety: { state: 'ACTIVE', latched: false },
  sent: { mode: 'position', position: [0.1, -0.2], velocity: [0, 0.5], ageMs: 2.5 },
  link: { state: 'READY', rxFrames: 10, errors: 0, lastFrameAgeMs: 1.2 },
  fleetLatch: false,
};
const full: StateSummary = {
  ...base,
  measured: { position: [0.1001, -0.1999], velocity: [0.001, 0.498] },
  imu: { roll: 0.01, pitch: -0.02, yaw: 1.5708, gyro: [0.001, 0, -0.002], accel: [0.05, -0.1, 9.806] },
  metrics: { loopLatenessP99Ms: 0.213, decoderMs: 8.4, cloudLatencyMs: 31.07, planAgeMs: 120.5 },
  task: 'pick up the red cube',
};

describe('StateBriefSchema and briefOf', () => {
  it('projects a full summary to the overview\'s fields, and the result passes the schema', () => {
    const b = briefOf(StateSummarySchema.parse(full), 7);
    expect(StateBriefSchema.parse(b)).toEqual({
      v: 1, robot: 'r1', at: full.at, seq: 7, safety: { state: 'ACTIVE', latched: false }, link: 'READY', mode: 'position', fleetLatch: false,
      metrics: full.metrics, task: 'pick up the red cube',
    });
  });

  it('projects a summary from an older edge (no metrics, no task) and one sent before the first command', () => {
    expect(StateBriefSchema.safeParse(briefOf(base, 0)).success).toBe(true);
    const none = briefOf({ ...base, sent: null, safety: { state: 'ESTOP', latched: true, cause: 'operator' }, task: null }, 1);
    expect(StateBriefSchema.parse(none)).toMatchObject({ mode: null, task: null, safety: { state: 'ESTOP', latched: true, cause: 'operator' } });
  });

  it('is far smaller than the summary it stands for', () => {
    expect(JSON.stringify(briefOf(full, 1)).length).toBeLessThan(JSON.stringify(full).length / 1.5);
  });

  it('refuses unknown fields, a missing safety state and a negative sequence number, naming the field', () => {
    const ok = briefOf(full, 1);
    expect(StateBriefSchema.safeParse({ ...ok, measured: full.measured }).success).toBe(false);
    const { safety: _s, ...noSafety } = ok;
    expect(StateBriefSchema.safeParse(noSafety).error?.issues[0]?.path).toEqual(['safety']);
    expect(StateBriefSchema.safeParse({ ...ok, seq: -1 }).error?.issues[0]?.path).toEqual(['seq']);
  });
});

describe('the brief topic', () => {
  it('parses as a robot channel and is its robot\'s to write, anyone\'s of the fleet to read', () => {
    const t = robotTopics('f', 'r1');
    expect(t.brief).toBe('spinal/v1/f/r1/brief');
    expect(parseTopic(t.brief)).toEqual({ kind: 'channel', fleet: 'f', robot: 'r1', channel: 'brief' });
    expect(parseTopic('spinal/v1/f/all/brief')).toBeNull();
    const robot = aclRules({ username: 'r1', role: 'robot', fleet: 'f' });
    expect(mayPublish(robot, 'spinal/v1/f/r1/brief')).toBe(true);
    expect(mayPublish(robot, 'spinal/v1/f/r2/brief')).toBe(false);
    const viewer = aclRules({ username: 'vic', role: 'viewer', fleet: 'f' });
    expect(maySubscribe(viewer, 'spinal/v1/f/+/brief')).toBe(true);
    expect(mayPublish(viewer, 'spinal/v1/f/r1/brief')).toBe(false);
  });
});

describe('BriefSchedule', () => {
  const at = (s: StateSummary, patch: Partial<StateSummary>): StateSummary => ({ ...s, ...patch });

  it('sends the first brief, then one a period, from summaries arriving at 20 Hz', () => {
    const sched = new BriefSchedule();
    const sentAt: number[] = [];
    for (let t = 0; t < 3000; t += 50) if (sched.due(full, t)) sentAt.push(t);
    expect(sentAt).toEqual([0, BRIEF_PERIOD_MS, 2 * BRIEF_PERIOD_MS]);
  });

  it('sends at once when a discrete field changes (safety, latch, link, mode, fleet latch, task), whatever the period', () => {
    const changes: Partial<StateSummary>[] = [
      { safety: { state: 'HOLD', latched: false } },
      { safety: { state: 'HOLD', latched: true } },
      { safety: { state: 'HOLD', latched: true, cause: 'plan-expired' } },
      { link: { state: 'LOST' } },
      { sent: null },
      { fleetLatch: true },
      { task: 'wave' },
    ];
    const sched = new BriefSchedule();
    expect(sched.due(full, 0)).toBe(true);
    let s = full;
    changes.forEach((c, i) => {
      s = at(s, c);
      expect(sched.due(s, i + 1), JSON.stringify(c)).toBe(true);
      expect(sched.due(s, i + 1.5), JSON.stringify(c)).toBe(false);
    });
  });

  it('does not send for a change of figures only (metrics, positions)', () => {
    const sched = new BriefSchedule();
    sched.due(full, 0);
    expect(sched.due({ ...full, metrics: { loopLatenessP99Ms: 9, decoderMs: 9, cloudLatencyMs: 9, planAgeMs: 9 }, measured: { position: [1, 1], velocity: [0, 0] } }, 10)).toBe(false);
  });

  it('refuses a period that is not positive', () => {
    expect(() => new BriefSchedule(0)).toThrow(/brief period 0 ms/);
  });
});
