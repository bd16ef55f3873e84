/** The pure parts of the cloud link: plan validation, clock offset, latency window, sent stamps. */
import { describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from './clock-offset.js';
import { LatencyWindow } from './latency-window.js';
import { validatePlan, type PlanContext } from './plan-validation.js';
import { SentObservations } from './sent-observations.js';

function ctx(over: Partial<PlanContext> = {}): PlanContext {
  const sent = new SentObservations(8);
  sent.record(10, 1_000_000, 1_001_000); // captured at 1.0 s, sent 1 ms later
  sent.record(11, 1_100_000, 1_101_000);
  const joints = [{ name: 'a', positionMin: -1, positionMax: 1, velocityMax: 2 }, { name: 'b', positionMin: 0, positionMax: 2, velocityMax: 2 }];
  return { latentDim: 3, joints, lastPlanId: -1, lastPlanObservationSeq: -1, maxObservationAgeMs: 500, sent, nowUs: 1_150_000, ...over };
}
const plan = (over: Partial<{ planId: number; observationSeq: number; latent: number[]; validForMs: number }> = {}) => ({
  planId: 1, observationSeq: 11, latent: [0, 0.5, -0.5], validForMs: 300, ...over,
});

describe('validatePlan', () => {
  it('accepts a good plan and dates its expiry from the observation capture', () => {
    expect(validatePlan(plan(), ctx())).toEqual({ ok: true, captureUs: 1_100_000, sendUs: 1_101_000, expiresAtUs: 1_400_000 });
  });

  it.each([
    [{ latent: [0, 0] }, {}, 'dims', 'plan 1: latent has 2 values, expected 3'],
    [{ latent: [0, -Infinity, 0] }, {}, 'non-finite', 'plan 1: latent[1] is -Infinity'],
    [{ planId: 4 }, { lastPlanId: 4 }, 'out-of-order', 'plan 4 is not after the accepted plan 4'],
    [{ observationSeq: 12 }, {}, 'unknown-observation', 'plan 1 answers observation 12, which this link does not know'],
    [{ observationSeq: 10 }, { lastPlanObservationSeq: 11 }, 'older-than-current', 'plan 1 answers observation 10, older than the current plan\'s 11'],
    [{}, { nowUs: 1_700_000 }, 'too-old', 'plan 1 answers observation 11 captured 600.0 ms ago (limit 500 ms)'],
    [{ validForMs: 50 }, {}, 'expired', 'plan 1 valid for 50 ms expired 0.0 ms before it arrived'],
  ] as const)('rejects %j in %j as %s', (p, c, reason, detail) => {
    expect(validatePlan(plan(p as Partial<ReturnType<typeof plan>>), ctx(c))).toEqual({ ok: false, reason, detail });
  });

  it('accepts an action chunk that fits the robot, with an empty latent; names what does not fit', () => {
    const chunk = { rows: 2, actionDim: 2, stepUs: 20_000, actions: [0, 1, 0.1, 1.1], source: 'openpi', policyMs: 0 };
    expect(validatePlan({ ...plan({ latent: [] }), actionChunk: chunk }, ctx())).toMatchObject({ ok: true, expiresAtUs: 1_400_000 });
    expect(validatePlan({ ...plan(), actionChunk: chunk }, ctx())).toEqual({ ok: false, reason: 'chunk', detail: 'plan 1: carries both an action chunk and a latent of 3 values' });
    expect(validatePlan({ ...plan({ latent: [] }), actionChunk: { ...chunk, actionDim: 4, actions: [0, 0, 0, 0, 0, 0, 0, 0] } }, ctx()))
      .toEqual({ ok: false, reason: 'chunk', detail: 'plan 1: action_chunk.action_dim 4 does not fit the robot\'s 2 joints (a, b)' });
    expect(validatePlan({ ...plan({ latent: [] }), actionChunk: { ...chunk, actions: [0, 1, NaN, 1] } }, ctx()))
      .toEqual({ ok: false, reason: 'non-finite', detail: 'plan 1: action_chunk row 1 joint 0 ("a") is NaN' });
    expect(validatePlan({ ...plan({ latent: [] }), actionChunk: { ...chunk, actions: [0, 1, 0, 3] } }, ctx())).toMatchObject({ ok: false, reason: 'chunk' });
  });

  it('forgets observations that fell out of its ring', () => {
    const c = ctx();
    for (let s = 12; s < 20; s++) c.sent.record(s, 1_100_000, 1_100_000);
    expect(validatePlan(plan({ observationSeq: 11 }), c)).toMatchObject({ ok: false, reason: 'unknown-observation' });
  });
});

describe('ClockOffsetEstimator', () => {
  it('takes the offset of the exchange with the least delay, within its window', () => {
    const est = new ClockOffsetEstimator(4);
    const offset = 5_000;
    // t1 edge send, t2 = t1 + up + offset, t3 = t2 + compute, t4 = t3 - offset + down
    const exchange = (t1: number, up: number, compute: number, down: number): void => {
      const t2 = t1 + up + offset;
      const t3 = t2 + compute;
      est.add(t1, t2, t3, t3 - offset + down);
    };
    exchange(0, 900, 10_000, 100); // asymmetric: offset error 400
    exchange(20_000, 200, 10_000, 200); // symmetric, least delay: exact
    exchange(40_000, 3_000, 10_000, 500);
    expect(est.estimate()).toMatchObject({ offsetUs: offset, delayUs: 400, samples: 3 });
    for (let k = 0; k < 4; k++) exchange(60_000 + k * 20_000, 600, 10_000, 400); // pushes the best one out
    expect(est.estimate()).toMatchObject({ offsetUs: offset + 100, delayUs: 1_000 });
    expect(est.add(10, 5, 4, 20)).toBe(false); // brain created before it received
    expect(est.estimate().refused).toBe(1);
  });
});

describe('LatencyWindow', () => {
  it('reports nearest-rank percentiles over the last samples', () => {
    const w = new LatencyWindow(100);
    expect(w.summary()).toEqual({ count: 0, p50Ms: null, p99Ms: null, maxMs: null });
    for (let i = 1; i <= 200; i++) w.add(i * 1000);
    expect(w.summary()).toEqual({ count: 100, p50Ms: 150, p99Ms: 199, maxMs: 200 });
  });
});
