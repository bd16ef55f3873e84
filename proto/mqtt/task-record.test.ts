import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { aclRules, mayPublish, maySubscribe } from './acl.js';
import { decodeTask } from './decode.js';
import { compareTaskRecords, nextTaskStamp, type TaskRecord } from './task-record.js';
import { parseTopic, robotTopics } from './topics.js';

const rec = (over: Partial<TaskRecord> = {}): TaskRecord => ({ v: 1, kind: 'task', robot: 'r1', taskId: 't-1', instruction: 'wave', at: 1000, writer: 'brainA', ...over });

describe('task records', () => {
  it('order by stamp, then writer, then task id; equal records compare 0', () => {
    expect(compareTaskRecords(rec({ at: 999 }), rec())).toBeLessThan(0);
    expect(compareTaskRecords(rec({ writer: 'brainB' }), rec())).toBeGreaterThan(0);
    expect(compareTaskRecords(rec({ taskId: 't-2' }), rec())).toBeGreaterThan(0);
    expect(compareTaskRecords(rec(), rec())).toBe(0);
  });

  it('the ordering is total and antisymmetric', () => {
    const arb = fc.record({ at: fc.nat(5), writer: fc.constantFrom('a', 'b'), taskId: fc.constantFrom('x', 'y') });
    fc.assert(fc.property(arb, arb, (a, b) => {
      const ab = compareTaskRecords(rec(a), rec(b));
      expect(Math.sign(ab) + Math.sign(compareTaskRecords(rec(b), rec(a)))).toBe(0);
      expect(ab === 0).toBe(a.at === b.at && a.writer === b.writer && a.taskId === b.taskId);
    }));
  });

  it('a new stamp orders after the newest held, even when this clock is behind', () => {
    expect(nextTaskStamp(5000, rec({ at: 1000 }))).toBe(5000);
    expect(nextTaskStamp(500, rec({ at: 1000 }))).toBe(1001);
    expect(nextTaskStamp(500.7, undefined)).toBe(500);
  });

  it('decoding refuses a record naming another robot than its topic, and bad fields by name', () => {
    const bytes = (o: object): Uint8Array => Buffer.from(JSON.stringify(o));
    expect(decodeTask(bytes(rec()), 'r1')).toEqual({ ok: true, value: rec() });
    expect(decodeTask(bytes(rec()), 'r2')).toMatchObject({ ok: false, problem: expect.stringMatching(/robot "r1" does not match the topic's robot "r2"/) });
    expect(decodeTask(bytes({ ...rec(), at: -1 }), 'r1')).toMatchObject({ ok: false, problem: expect.stringMatching(/^task: at:/) });
    expect(decodeTask(bytes({ ...rec(), extra: 1 }), 'r1')).toMatchObject({ ok: false });
    expect(decodeTask(new Uint8Array(), 'r1')).toMatchObject({ ok: false, problem: 'task: empty payload' });
  });

  it('the task topic parses as a robot channel', () => {
    expect(parseTopic(robotTopics('f', 'r1').task)).toEqual({ kind: 'channel', fleet: 'f', robot: 'r1', channel: 'task' });
  });

  it('the brain role reads and writes task topics only; operators and viewers read them, robots do neither', () => {
    const brain = aclRules({ username: 'brain', role: 'brain', fleet: 'f' });
    const t = robotTopics('f', 'r1');
    expect(mayPublish(brain, t.task)).toBe(true);
    expect(maySubscribe(brain, 'spinal/v1/f/+/task')).toBe(true);
    for (const topic of [t.state, t.event, t.estop, t.status, 'spinal/v1/f/all/cmd/estop']) expect(mayPublish(brain, topic)).toBe(false);
    expect(maySubscribe(brain, 'spinal/v1/f/#')).toBe(false);
    expect(maySubscribe(brain, t.state)).toBe(false);
    expect(mayPublish(brain, robotTopics('g', 'r1').task)).toBe(false);
    const op = aclRules({ username: 'alice', role: 'operator', fleet: 'f' });
    expect(mayPublish(op, t.task)).toBe(false);
    expect(maySubscribe(op, t.task)).toBe(true);
    expect(maySubscribe(aclRules({ username: 'vic', role: 'viewer', fleet: 'f' }), t.task)).toBe(true);
    const robot = aclRules({ username: 'r1', role: 'robot', fleet: 'f' });
    expect(mayPublish(robot, t.task)).toBe(false);
    expect(maySubscribe(robot, t.task)).toBe(false);
  });
});
