import { describe, expect, it } from 'vitest';
import {
  REFERENCE_GOAL_LATENT_SPACE, approachFraction, decodeGoal, encodeGoal, goalRangeFromLimits, minimumJerk,
  DEVIATION_STEPS, minimumJerkInverse, pathAction, referenceGoalLatentDim,
} from './reference-goal.js';

const range = goalRangeFromLimits([-1, -2, 0], [1, 2, 3]);

describe('reference-goal latent space', () => {
  it('names itself and sizes 2J + 1', () => {
    expect(REFERENCE_GOAL_LATENT_SPACE).toBe('spinal.reference-goal/2');
    expect(referenceGoalLatentDim(7)).toBe(15);
  });

  it('round-trips a goal and the start of its path inside the limits; no start means the goal', () => {
    const z = encodeGoal({ position: [0.5, -1, 2.9], stepsToGoal: 24, from: [0, 1, 0.5] }, range);
    expect(z).toHaveLength(7);
    const d = decodeGoal(z, range);
    expect(d.stepsToGoal).toBeCloseTo(24, 4);
    [0.5, -1, 2.9].forEach((q, j) => expect(d.position[j]).toBeCloseTo(q, 5));
    [0, 1, 0.5].forEach((q, j) => expect(d.from[j]).toBeCloseTo(q, 5));
    const hold = decodeGoal(encodeGoal({ position: [0.5, -1, 2.9], stepsToGoal: 5 }, range), range);
    expect([...hold.from]).toEqual([...hold.position]);
  });

  it('clips goals and starts outside the limits and absurd times', () => {
    const d = decodeGoal([5, -5, 0, -1e9, -7, 7, 0], range);
    expect([...d.normalized]).toEqual([1, -1, 0]);
    expect([...d.normalizedFrom]).toEqual([-1, 1, 0]);
    expect(d.position[2]).toBe(1.5);
    expect(d.stepsToGoal).toBe(1);
    expect(Number.isFinite(decodeGoal([0, 0, 0, 1e9, 0, 0, 0], range).stepsToGoal)).toBe(true);
  });

  it('inverts the minimum-jerk profile (the table decoders bake)', () => {
    for (let k = 0; k <= 200; k++) {
      const s = k / 200;
      // the table's first and last interval span s in [0, 0.063] and [0.937, 1], where phi is flat
      expect(Math.abs(minimumJerkInverse(minimumJerk(s)) - s)).toBeLessThan(s < 0.07 || s > 0.93 ? 0.012 : 1e-4);
    }
    expect(minimumJerkInverse(-3)).toBe(0);
    expect(minimumJerkInverse(7)).toBe(1);
  });

  it('a joint on its path continues it; one with no path approaches the goal', () => {
    const T = 30;
    for (const k of [0, 3, 12, 29]) {
      const q0 = 0.2 + 0.6 * minimumJerk(k / T);
      for (const h of [0, 4, 15]) expect(pathAction(q0, 0.2, 0.8, T, h, 1e-3)).toBeCloseTo(0.2 + 0.6 * minimumJerk((k + h + 1) / T), 3);
    }
    expect(pathAction(0.1, 0.5, 0.5, 6, 3, 1e-3)).toBeCloseTo(0.1 + 0.4 * approachFraction(3, 6), 12);
    expect(pathAction(0.1, 0.5, 0.5, 30, 3, 1e-3)).toBeCloseTo(0.1 + 0.4 * approachFraction(3, DEVIATION_STEPS), 12);
    expect(pathAction(0.9, 0.2, 0.8, T, 40, 1e-3)).toBeCloseTo(0.8, 12); // past the goal: back to it
  });

  it('uses a minimum-jerk approach that arrives at step T and stays', () => {
    expect(minimumJerk(0)).toBe(0);
    expect(minimumJerk(0.5)).toBeCloseTo(0.5, 12);
    expect(minimumJerk(1)).toBe(1);
    expect(approachFraction(15, 16)).toBe(1);
    expect(approachFraction(30, 16)).toBe(1);
    for (let h = 1; h < 16; h++) expect(approachFraction(h, 16)).toBeGreaterThan(approachFraction(h - 1, 16));
  });

  it('refuses malformed input', () => {
    expect(() => encodeGoal({ position: [0, 0], stepsToGoal: 4 }, range)).toThrow(/joints/);
    expect(() => encodeGoal({ position: [0, 0, 0], stepsToGoal: 0 }, range)).toThrow(/stepsToGoal/);
    expect(() => goalRangeFromLimits([1], [0])).toThrow(/upper/);
  });
});
