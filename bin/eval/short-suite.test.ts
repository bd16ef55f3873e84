/**
 * The eval's short suite in simulated time, as CI runs it: holding a pose and reaching a named pose
 * at 0 and 300 ms of brain latency, on both profiles, with the daemon's default switching policy
 * and the reference decoder; its report is held to the motion-quality goals (checkThresholds).
 * And the same run twice gives the same figures (one injected clock, seeded noise).
 */
import { describe, expect, it } from 'vitest';
import { checkThresholds, runEval } from './run-eval.js';
import { DEFAULT_EXECUTION, shortSuite } from './suite.js';

describe('spinal eval, short suite (simulated time)', () => {
  it('holds still, reaches named poses on time without clamps, at 0 and 300 ms of brain latency', async () => {
    const report = await runEval(shortSuite(DEFAULT_EXECUTION));
    expect(report.runs).toHaveLength(6);
    expect(report.failures).toEqual([]);
    for (const r of report.runs.filter((x) => x.task === 'hold')) {
      expect(r.rest.ticks, `${r.profile} hold: ticks at rest`).toBeGreaterThan(1500); // ~9 s at 200 Hz
    }
    // checkThresholds is what CI relies on: it does flag a trembling hold and a late, clamped reach.
    const hold = report.runs.find((x) => x.task === 'hold');
    const reach = report.runs.find((x) => x.task.startsWith('reach'));
    if (hold === undefined || reach === undefined) throw new Error('suite lacks a hold or a reach');
    expect(checkThresholds([{ ...hold, rest: { ...hold.rest, velocityRms: 0.5, positionStdDeg: 2 } }])).toHaveLength(2);
    expect(checkThresholds([{ ...reach, completionRatio: 1.5, clamps: { velocity: 0, acceleration: 3, position: 0 } }])).toHaveLength(2);
  }, 240_000);

  it('gives the same figures for the same seed', async () => {
    const entry = shortSuite(DEFAULT_EXECUTION).filter((e) => e.task.id.startsWith('reach') && e.condition.brainLatencyMs === 300).slice(0, 1);
    const a = await runEval(entry);
    const b = await runEval(entry);
    expect(b.runs).toEqual(a.runs);
  }, 120_000);
});
