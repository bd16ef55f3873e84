import { describe, expect, it } from 'vitest';
import { encodePayload, type SafetyEventBody } from '../../proto/mqtt/index.js';
import { EstopSource } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { CommandHandler } from './command-handler.js';
import { DeadmanWatch } from './deadman-watch.js';
import type { ResetOutcome, ResumeOutcome } from './ports.js';

const NOW = 1_700_000_000_000;
function setup(opts: { resetOutcome?: ResetOutcome; resumeOutcome?: ResumeOutcome | boolean; operators?: string[]; noResume?: boolean } = {}) {
  const order: string[] = [];
  const wire: [number, number, number][] = [];
  const stops: unknown[] = [];
  const resets: unknown[] = [];
  const resumes: unknown[] = [];
  const events: SafetyEventBody[] = [];
  const handler = new CommandHandler({
    fleet: 'f', robot: 'r1', now: () => NOW,
    wire: { sendEstop: (c, s, r) => { order.push('wire'); wire.push([c, s, r]); return true; } },
    estop: { remoteEstop: (i) => { order.push('supervisor'); stops.push(i); } },
    reset: { reset: (i) => { resets.push(i); return opts.resetOutcome ?? { accepted: true }; } },
    ...(opts.noResume ? {} : { resume: { resume: (i: unknown) => { resumes.push(i); return opts.resumeOutcome ?? true; } } }),
    events: { report: (e) => events.push(e) },
    ...(opts.operators ? { operators: opts.operators } : {}),
  });
  return { handler, order, wire, stops, resets, resumes, events };
}
const estop = (category: number) => encodePayload({ v: 1, kind: 'estop', id: 'e1', category, operator: 'alice', at: NOW });
const reset = (extra: object = {}) => encodePayload({ v: 1, kind: 'reset', id: 'x1', operator: 'alice', at: NOW, ...extra });
const resume = (extra: object = {}) => encodePayload({ v: 1, kind: 'resume', id: 'm1', operator: 'alice', at: NOW, ...extra });
const settle = () => new Promise((r) => setImmediate(r));

describe('CommandHandler e-stop path', () => {
  it('writes ESTOP to the wire before telling the supervisor, with the requested category', () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r1/cmd/estop', estop(2), false);
    expect(s.order).toEqual(['wire', 'supervisor']);
    expect(s.wire).toEqual([[2, EstopSource.REMOTE, 16]]);
    expect(s.stops).toEqual([{ scope: 'robot', category: 2, malformed: false, onWire: true, operator: 'alice' }]);
    expect(s.events[0]).toMatchObject({ kind: 'estop-received', wireSent: true, id: 'e1' });
  });
  it('stops with category 0 on a malformed e-stop and reports the problem', () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/all/cmd/estop', Buffer.from('STOP!!'), false);
    expect(s.wire).toEqual([[0, EstopSource.REMOTE, 2]]);
    expect(s.stops).toEqual([{ scope: 'fleet', category: 0, malformed: true, onWire: true }]);
    expect(s.events.find((e) => e.kind === 'estop-received')).toMatchObject({ malformed: true, problem: expect.stringMatching(/not UTF-8 JSON/) });
    expect(s.handler.fleetLatch).toBe(true);
  });
  it('a fleet release clears the fleet latch but does not reset the robot', () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/all/cmd/estop', estop(1), true);
    s.handler.handle('spinal/v1/f/all/cmd/estop', encodePayload({ v: 1, kind: 'release', id: 'r', operator: 'alice', at: NOW }), true);
    expect(s.handler.fleetLatch).toBe(false);
    expect(s.resets).toEqual([]);
    expect(s.events.map((e) => e.kind)).toEqual(['fleet-latch', 'estop-received', 'fleet-latch']);
  });
  it('ignores commands for another robot or fleet', () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r2/cmd/estop', estop(0), false);
    s.handler.handle('spinal/v1/g/all/cmd/estop', estop(0), false);
    expect(s.wire).toEqual([]);
  });
});

describe('CommandHandler reset path', () => {
  it('passes a valid operator reset to the supervisor and reports it', async () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r1/cmd/reset/alice', reset(), false);
    await settle();
    expect(s.resets).toEqual([{ id: 'alice', role: 'operator' }]);
    expect(s.events).toEqual([expect.objectContaining({ kind: 'reset-accepted', id: 'x1' })]);
  });
  it.each([
    ['malformed', Buffer.from('{"kind":"reset"'), false, /not UTF-8 JSON/],
    ['naming another operator', reset({ operator: 'bob' }), false, /forged reset: the payload names operator "bob" but the broker authenticated "alice"/],
    ['retained', reset(), true, /retained reset/],
    ['stale', reset({ at: NOW - 60_000 }), false, /reset.at=.* 60000 ms from now/],
    ['with an unknown key', reset({ force: true }), false, /Unrecognized key/i],
  ])('refuses and reports a %s reset', async (_what, payload, retained, reason) => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r1/cmd/reset/alice', payload, retained);
    await settle();
    expect(s.resets).toEqual([]);
    expect(s.events).toEqual([expect.objectContaining({ kind: 'reset-refused', reason: expect.stringMatching(reason) })]);
  });
  it('refuses an operator not on the allow list, and any reset while the fleet latch is asserted', async () => {
    const s = setup({ operators: ['bob'] });
    s.handler.handle('spinal/v1/f/r1/cmd/reset/alice', reset(), false);
    const t = setup();
    t.handler.handle('spinal/v1/f/all/cmd/estop', estop(0), true);
    t.handler.handle('spinal/v1/f/r1/cmd/reset/alice', reset(), false);
    await settle();
    expect(s.events[0]).toMatchObject({ kind: 'reset-refused', reason: expect.stringMatching(/"alice" is not authorised/) });
    expect(t.events.at(-1)).toMatchObject({ kind: 'reset-refused', reason: expect.stringMatching(/fleet e-stop latch is asserted/) });
    expect(t.resets).toEqual([]);
  });
  it('takes the sender from the topic, never from the payload: its claimed role is ignored, a reset without a sender level is not one', async () => {
    const s = setup();
    // A role claim in the payload changes nothing: only the broker decides who may write here.
    s.handler.handle('spinal/v1/f/r1/cmd/reset/alice', reset({ role: 'viewer' }), false);
    await settle();
    expect(s.resets).toEqual([{ id: 'alice', role: 'operator' }]);
    // The topic names bob (the broker vouched for bob); the payload claims alice: refused, reported with bob as the sender.
    const t = setup();
    t.handler.handle('spinal/v1/f/r1/cmd/reset/bob', reset(), false);
    t.handler.handle('spinal/v1/f/r1/cmd/reset', reset(), false);
    t.handler.handle('spinal/v1/f/r1/cmd/resume', resume(), false);
    await settle();
    expect(t.resets).toEqual([]);
    expect(t.events).toEqual([expect.objectContaining({ kind: 'reset-refused', operator: 'alice', reason: expect.stringMatching(/authenticated "bob"/) })]);
  });
  it('reports the supervisor refusing an unsafe reset', async () => {
    const s = setup({ resetOutcome: { accepted: false, reason: 'tilted' } });
    s.handler.handle('spinal/v1/f/r1/cmd/reset/alice', reset(), false);
    await settle();
    expect(s.events[0]).toMatchObject({ kind: 'reset-refused', reason: 'supervisor refused: tilted' });
  });
});

describe('CommandHandler resume path', () => {
  it('passes a valid operator resume to the supervisor synchronously and reports it', () => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(s.resumes).toEqual([{ id: 'alice', role: 'operator' }]);
    expect(s.events).toEqual([expect.objectContaining({ kind: 'resume-accepted', id: 'm1', operator: 'alice' })]);
    expect(s.resets).toEqual([]);
  });
  it.each([
    ['malformed', Buffer.from('{"kind":"resume"'), false, /^resume: not UTF-8 JSON/],
    ['naming another operator', resume({ operator: 'bob' }), false, /forged resume: the payload names operator "bob" but the broker authenticated "alice"/],
    ['retained', resume(), true, /retained resume/],
    ['stale', resume({ at: NOW - 60_000 }), false, /resume.at=.* 60000 ms from now/],
    ['from the future', resume({ at: NOW + 60_000 }), false, /resume.at=.* -60000 ms from now/],
    ['with an unknown key', resume({ force: true }), false, /Unrecognized key/i],
    ['of the wrong kind', resume({ kind: 'reset' }), false, /^resume: kind: /],
    ['without an operator', resume({ operator: undefined }), false, /^resume: operator: /],
  ])('refuses and reports a %s resume', (_what, payload, retained, reason) => {
    const s = setup();
    s.handler.handle('spinal/v1/f/r1/cmd/resume/alice', payload, retained);
    expect(s.resumes).toEqual([]);
    expect(s.events).toEqual([expect.objectContaining({ kind: 'resume-refused', reason: expect.stringMatching(reason) })]);
  });
  it('refuses an operator not on the allow list, and any resume while the fleet latch is asserted', () => {
    const s = setup({ operators: ['bob'] });
    s.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(s.events[0]).toMatchObject({ kind: 'resume-refused', reason: expect.stringMatching(/"alice" is not authorised to resume/), id: 'm1', operator: 'alice' });
    const t = setup();
    t.handler.handle('spinal/v1/f/all/cmd/estop', estop(0), true);
    t.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(t.events.at(-1)).toMatchObject({ kind: 'resume-refused', reason: expect.stringMatching(/fleet e-stop latch is asserted/) });
    expect(t.resumes).toEqual([]);
    // Released: the same resume goes through.
    t.handler.handle('spinal/v1/f/all/cmd/estop', encodePayload({ v: 1, kind: 'release', id: 'r', operator: 'alice', at: NOW }), true);
    t.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(t.resumes).toHaveLength(1);
  });
  it('reports the supervisor refusing (plain false, or with a reason) and a supervisor that throws', () => {
    const s = setup({ resumeOutcome: false });
    s.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(s.events[0]).toMatchObject({ kind: 'resume-refused', reason: expect.stringMatching(/^supervisor refused/) });
    const t = setup({ resumeOutcome: { accepted: false, reason: 'no fresh plan' } });
    t.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(t.events[0]).toMatchObject({ kind: 'resume-refused', reason: 'supervisor refused: no fresh plan' });
    const events: SafetyEventBody[] = [];
    const u = new CommandHandler({
      fleet: 'f', robot: 'r1', now: () => NOW, wire: { sendEstop: () => true }, estop: { remoteEstop() {} }, reset: { reset: () => true },
      resume: { resume: () => { throw new Error('boom'); } }, events: { report: (e) => events.push(e) },
    });
    u.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(events[0]).toMatchObject({ kind: 'resume-refused', reason: 'supervisor failed: boom' });
  });
  it('refuses when no resume sink is wired, and never takes a fleet-wide or another robot\'s resume', () => {
    const s = setup({ noResume: true });
    s.handler.handle('spinal/v1/f/r1/cmd/resume/alice', resume(), false);
    expect(s.events[0]).toMatchObject({ kind: 'resume-refused', reason: expect.stringMatching(/does not accept a remote resume/) });
    const t = setup();
    t.handler.handle('spinal/v1/f/all/cmd/resume/alice', resume(), false);
    t.handler.handle('spinal/v1/f/r2/cmd/resume/alice', resume(), false);
    expect(t.resumes).toEqual([]);
    expect(t.events).toEqual([]);
  });
});

describe('dead-man heartbeat', () => {
  it('expires after the timeout without a well-formed heartbeat, on the injected clock', () => {
    const clock = new ManualClock();
    const expired: unknown[] = [];
    const watch = new DeadmanWatch({ clock, timeoutMs: 500, onExpired: (i) => expired.push(i) });
    const s = setup();
    const handler = new CommandHandler({
      fleet: 'f', robot: 'r1', now: () => NOW, deadman: watch,
      wire: { sendEstop: () => true }, estop: { remoteEstop() {} }, reset: { reset: () => ({ accepted: true }) }, events: { report: (e) => s.events.push(e) },
    });
    watch.start();
    const beat = encodePayload({ v: 1, kind: 'heartbeat', operator: 'alice', at: NOW });
    clock.advance(400);
    handler.handle('spinal/v1/f/all/cmd/heartbeat', beat, false);
    clock.advance(400);
    handler.handle('spinal/v1/f/r1/cmd/heartbeat', Buffer.from('garbage keeps nobody alive'), false);
    expect(expired).toEqual([]);
    clock.advance(100);
    expect(expired).toEqual([{ timeoutMs: 500, lastHeartbeatAgeMs: 500 }]);
    clock.advance(5000);
    expect(expired).toHaveLength(1);
    handler.handle('spinal/v1/f/r1/cmd/heartbeat', beat, false);
    expect(watch.expired).toBe(false);
    clock.advance(500);
    expect(expired).toHaveLength(2);
  });
  it('expires at boot when no heartbeat ever arrives', () => {
    const clock = new ManualClock();
    const expired: unknown[] = [];
    new DeadmanWatch({ clock, timeoutMs: 200, onExpired: (i) => expired.push(i) }).start();
    clock.advance(200);
    expect(expired).toEqual([{ timeoutMs: 200, lastHeartbeatAgeMs: null }]);
  });
});
