import { describe, expect, it } from 'vitest';
import { PlanExecution, type RoutedPlan } from './plan-execution.js';

function rig() {
  const pushed: { actions: number[]; originUs: number }[] = [];
  const validity: number[] = [];
  let changes = 0;
  const ex = new PlanExecution({ jointCount: 2, stepUs: 20_000, maxRows: 4 });
  ex.bind({ pushChunk: (a, o) => pushed.push({ actions: Array.from(a), originUs: o }), chunkSourceChanged: () => changes++ }, { planReceived: (t) => validity.push(t) });
  return { ex, pushed, validity, changes: () => changes };
}
const latentPlan = (id: number): RoutedPlan => ({ planId: id, kind: 'latent', latent: Float32Array.of(1, 2, 3), chunk: null, captureUs: 1000, expiresAtUs: 5000 });
const chunkPlan = (id: number, rows = 2, stepUs = 20_000): RoutedPlan => ({
  planId: id, kind: 'action-chunk', latent: new Float32Array(0), captureUs: 2000, expiresAtUs: 6000,
  chunk: { rows, stepUs, actions: Float32Array.from({ length: rows * 2 }, (_, i) => i / 10) },
});

describe('PlanExecution', () => {
  it('a latent plan feeds the decoder; an action chunk goes to the schedule at its capture and stops the decoder', () => {
    const r = rig();
    expect(r.ex.onPlan(latentPlan(1))).toBe(true);
    expect(r.ex.latent).toEqual(Float32Array.of(1, 2, 3));
    expect(r.ex.source).toBe('decoder');
    expect(r.ex.onPlan(chunkPlan(2))).toBe(true);
    expect(r.ex.latent).toBeNull();
    expect(r.ex.source).toBe('plans');
    expect(r.ex.kind).toBe('action-chunk');
    expect(r.pushed).toHaveLength(1);
    expect(r.pushed[0]?.originUs).toBe(2000);
    expect(r.pushed[0]?.actions.map((v) => Number(v.toFixed(3)))).toEqual([0, 0.1, 0.2, 0.3]);
    expect(r.validity).toEqual([5000, 6000]);
    expect(r.changes()).toBe(1);
    r.ex.onPlan(latentPlan(3));
    expect(r.ex.source).toBe('decoder');
    expect(r.changes()).toBe(2);
  });

  it('refuses a chunk shorter than one control step and does not extend the validity', () => {
    const r = rig();
    expect(r.ex.onPlan(chunkPlan(1, 1, 10_000))).toBe(false);
    expect(r.ex.lastRefusal).toBe('plan 1: the action chunk covers 1 x 10000 µs, less than one control step of 20000 µs');
    expect(r.validity).toEqual([]);
    expect(r.pushed).toEqual([]);
  });
});
