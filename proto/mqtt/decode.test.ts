import { describe, expect, it } from 'vitest';
import { decodeEpisodeMark, decodeEstopMessage, decodeHeartbeat, decodeReset, decodeResume, encodePayload } from './decode.js';
import { SafetyEventSchema, StateSummarySchema } from './payloads.js';

const estop = { v: 1, kind: 'estop', id: 'e1', category: 1, operator: 'alice', at: 1 };
const reset = { v: 1, kind: 'reset', id: 'r1', operator: 'alice', at: 1 };
const resume = { v: 1, kind: 'resume', id: 'm1', operator: 'alice', at: 1 };

describe('e-stop decoding is fail safe', () => {
  it('reads a well-formed stop with its category', () => {
    const d = decodeEstopMessage(encodePayload(estop));
    expect(d).toMatchObject({ kind: 'estop', category: 1, malformed: false });
  });
  it.each([
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x13, 0x37])],
    ['an empty payload', Buffer.alloc(0)],
    ['JSON of the wrong shape', encodePayload({ hello: 'world' })],
    ['a category out of range', encodePayload({ ...estop, category: 3 })],
    ['a stop missing its id', encodePayload({ ...estop, id: undefined })],
    ['an unknown extra key', encodePayload({ ...estop, resume: true })],
    ['a truncated message', encodePayload(estop).subarray(0, 20)],
    ['an oversized payload', Buffer.alloc(5000, 0x20)],
  ])('turns %s into a category-0 stop naming the problem', (_what, bytes) => {
    expect(decodeEstopMessage(bytes)).toEqual({ kind: 'estop', category: 0, malformed: true, problem: expect.stringMatching(/^e-stop: /) });
  });
  it('reads a release of the fleet latch', () => {
    expect(decodeEstopMessage(encodePayload({ v: 1, kind: 'release', id: 'x', operator: 'alice', at: 2 })).kind).toBe('release');
  });
});

describe('reset and heartbeat decoding refuse anything malformed', () => {
  it('accepts a well-formed reset', () => {
    expect(decodeReset(encodePayload(reset))).toMatchObject({ ok: true, value: { operator: 'alice' } });
  });
  it('names the offending key of a malformed reset', () => {
    expect(decodeReset(encodePayload({ ...reset, role: 'admin' }))).toMatchObject({ ok: false, problem: expect.stringMatching(/^reset: role: /) });
    expect(decodeReset(Buffer.from('{'))).toMatchObject({ ok: false, problem: expect.stringMatching(/not UTF-8 JSON/) });
  });
  it('accepts a well-formed resume', () => {
    expect(decodeResume(encodePayload(resume))).toEqual({ ok: true, value: resume });
  });
  it.each([
    ['role', { ...resume, role: 'admin' }],
    ['kind', { ...resume, kind: 'reset' }],
    ['id', { ...resume, id: '' }],
    ['operator', { ...resume, operator: 'a b' }],
    ['at', { ...resume, at: -1 }],
    ['at', { ...resume, at: undefined }],
    ['v', { ...resume, v: 2 }],
    ['(root)', { ...resume, what: ['estop'] }],
  ])('names the offending key (%s) of a malformed resume', (key, value) => {
    const d = decodeResume(encodePayload(value));
    expect(d.ok).toBe(false);
    expect(d).toMatchObject({ problem: expect.stringMatching(new RegExp(`^resume: ${key.replace(/[()]/g, '\\$&')}: `)) });
  });
  it('refuses a resume that is not JSON, empty or oversized', () => {
    expect(decodeResume(Buffer.from('resume!'))).toMatchObject({ ok: false, problem: expect.stringMatching(/^resume: not UTF-8 JSON/) });
    expect(decodeResume(Buffer.alloc(0))).toMatchObject({ ok: false, problem: 'resume: empty payload' });
    expect(decodeResume(Buffer.alloc(5000, 0x20))).toMatchObject({ ok: false, problem: expect.stringMatching(/exceeds 4096/) });
  });
  it('reads an episode mark and refuses a bad outcome, naming it', () => {
    const mark = (outcome: unknown) => encodePayload({ v: 1, kind: 'episode', id: 'm1', operator: 'alice', at: 1, outcome, end: false });
    expect(decodeEpisodeMark(mark('failure'))).toEqual({ ok: true, value: { v: 1, kind: 'episode', id: 'm1', operator: 'alice', at: 1, outcome: 'failure', end: false } });
    expect(decodeEpisodeMark(mark('great'))).toEqual({ ok: false, problem: 'episode mark: outcome: outcome "great" is not one of "success", "failure", "intervention"' });
    expect(decodeEpisodeMark(mark('estop'))).toMatchObject({ ok: false, problem: expect.stringMatching(/outcome "estop"/) });
    expect(decodeEpisodeMark(encodePayload({ v: 1, kind: 'episode', id: 'm1', operator: 'alice', at: 1, outcome: 'success' }))).toMatchObject({ ok: false, problem: expect.stringMatching(/^episode mark: end: /) });
  });

  it('ignores a heartbeat that is not well-formed', () => {
    expect(decodeHeartbeat(encodePayload({ v: 1, kind: 'heartbeat', operator: 'alice', at: 5 })).ok).toBe(true);
    expect(decodeHeartbeat(Buffer.from('beat')).ok).toBe(false);
  });
});

describe('published payloads', () => {
  it('state summary and safety event schemas accept what the edge publishes', () => {
    expect(StateSummarySchema.safeParse({
      v: 1, robot: 'r1', at: 1, seq: 0, safety: { state: 'ESTOP', latched: true }, sent: null, link: { state: 'READY' }, fleetLatch: false,
    }).success).toBe(true);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 2, kind: 'reset-refused', reason: 'x' }).success).toBe(true);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 3, kind: 'resume-refused', reason: 'x', id: 'm1', operator: 'alice' }).success).toBe(true);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 4, kind: 'resume-accepted', id: 'm1', operator: 'alice' }).success).toBe(true);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 5, kind: 'resume-accepted', id: 'm1' }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 6, kind: 'commands-shed', shed: 12, total: 40, windowMs: 1000 }).success).toBe(true);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 7, kind: 'commands-shed', shed: 0, total: 40, windowMs: 1000 }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ v: 1, robot: 'r1', wallMs: 1, monoUs: 7, seq: 6, kind: 'mqtt-link-lost', timeoutMs: 500, downForMs: 500, category: 2 }).success).toBe(true);
  });

  it('a safety event names its two clocks: an ambiguous `at` or a fractional or negative time is refused', () => {
    const base = { v: 1, robot: 'r1', seq: 0, kind: 'reset-refused', reason: 'x' };
    expect(SafetyEventSchema.safeParse({ ...base, at: 1 }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ ...base, wallMs: 1_780_000_000_000 }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ ...base, wallMs: 1_780_000_000_000, monoUs: 1.5 }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ ...base, wallMs: -1, monoUs: 1 }).success).toBe(false);
    expect(SafetyEventSchema.safeParse({ ...base, wallMs: 1_780_000_000_000, monoUs: 1_005_000_000_000 }).success).toBe(true);
  });
});
