import { describe, expect, it } from 'vitest';
import {
  REFERENCE_GOAL_LATENT_SPACE, approachFraction, decodeGoal, encodeGoal, goalRangeFromLimits, minimumJerk,
  referenceGoalLatentDim,
} from './reference-goal.js';

const range = goalRangeFromLimits([-1, -2, 0], [1, 2, 3]);

describe('reference-goal latent space', () => {
  it('names itself and sizes J + 1', () => {
    expect(REFERENCE_GOAL_LATENT_SPACE).toBe('spinal.reference-goal/1');
    expect(referenceGoalLatentDim(7)).toBe(8);
  });

  it('round-trips a goal inside the limits', () => {
    const z = encodeGoal({ position: [0.5, -1, 2.9], stepsToGoal: 24 }, range);
    expect(z).toHaveLength(4);
    const d = decodeGoal(z, range);
    expect(d.stepsToGoal).toBeCloseTo(24, 4);
    [0.5, -1, 2.9].forEach((q, j) => expect(d.position[j]).toBeCloseTo(q, 5));
  });

  it('clips goals outside the limits and absurd times', () => {
    const d = decodeGoal([5, -5, 0, -1e9], range);
    expect([...d.normalized]).toEqual([1, -1, 0]);
    expect(d.position[2]).toBe(1.5);
    expect(d.stepsToGoal).toBe(1);
    expect(Number.isFinite(decodeGoal([0, 0, 0, 1e9], range).stepsToGoal)).toBe(true);
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
