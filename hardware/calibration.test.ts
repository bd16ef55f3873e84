import { describe, expect, it } from 'vitest';
import {
  countsToRad,
  cpsToRadPerSec,
  currentToTorque,
  getProfile,
  radPerSecToCps,
  radToCounts,
  torqueToCurrent,
  type JointProfile,
} from './index.js';

function joint(encoder: Partial<JointProfile['encoder']>, limits: Partial<JointProfile['limits']> = {}): JointProfile {
  return {
    name: 'j',
    kind: 'revolute',
    encoder: { countsPerRev: 4096, gearRatio: 10, direction: 1, zeroOffsetCounts: 0, singleTurn: false, ...encoder },
    limits: { positionMin: -3, positionMax: 3, velocityMax: 5, accelerationMax: 50, currentMax: 10, ...limits },
    torqueConstant: 2.5,
    servo: { naturalFrequencyHz: 10, dampingRatio: 1 },
  };
}

/** Evenly spaced angles across the joint's limits, both ends included. */
function sweep(j: JointProfile, steps = 200): number[] {
  const { positionMin: lo, positionMax: hi } = j.limits;
  return Array.from({ length: steps + 1 }, (_, k) => lo + ((hi - lo) * k) / steps);
}

describe('multi-turn encoders', () => {
  it('applies rad = direction * (counts - zero) * 2π / (countsPerRev * gearRatio)', () => {
    const j = joint({ zeroOffsetCounts: 1000 });
    expect(countsToRad(j, 1000)).toBe(0);
    expect(countsToRad(j, 1000 + 40960)).toBeCloseTo(2 * Math.PI, 12);
    expect(radToCounts(j, Math.PI / 2)).toBe(1000 + 10240);
    const reversed = joint({ zeroOffsetCounts: 1000, direction: -1 });
    expect(countsToRad(reversed, 1000 + 10240)).toBeCloseTo(-Math.PI / 2, 12);
    expect(radToCounts(reversed, Math.PI / 2)).toBe(1000 - 10240);
  });

  it.each([1, -1] as const)('round-trips within half a count, direction %i', (direction) => {
    const j = joint({ direction, zeroOffsetCounts: -777 });
    const halfCount = Math.PI / (4096 * 10);
    for (const rad of sweep(j)) {
      const counts = radToCounts(j, rad);
      expect(Number.isInteger(counts)).toBe(true);
      expect(Math.abs(countsToRad(j, counts) - rad)).toBeLessThanOrEqual(halfCount + 1e-15);
      // and counts → rad → counts is exact
      expect(radToCounts(j, countsToRad(j, counts))).toBe(counts);
    }
  });

  it('round-trips every built-in multi-turn joint', () => {
    for (const id of ['arm6-gripper', 'quadruped12']) {
      for (const j of getProfile(id).joints.filter((x) => !x.encoder.singleTurn)) {
        for (const rad of sweep(j, 50)) {
          expect(Math.abs(countsToRad(j, radToCounts(j, rad)) - rad)).toBeLessThanOrEqual(Math.PI / (j.encoder.countsPerRev * j.encoder.gearRatio) + 1e-15);
        }
      }
    }
  });
});

describe('single-turn encoders', () => {
  const cpr = 16384;
  const j = joint({ countsPerRev: cpr, gearRatio: 1, zeroOffsetCounts: 12000, direction: -1, singleTurn: true }, { positionMin: -2.7, positionMax: -0.4 });

  it('reports counts wrapped into 0..countsPerRev-1, as the sensor does', () => {
    for (const rad of sweep(j)) {
      const counts = radToCounts(j, rad);
      expect(counts).toBeGreaterThanOrEqual(0);
      expect(counts).toBeLessThan(cpr);
    }
    // -2.7 rad, direction -1: 12000 + round(2.7 * 16384 / 2π) = 19041, past one turn
    expect(radToCounts(j, -2.7)).toBe(12000 + Math.round((2.7 * cpr) / (2 * Math.PI)) - cpr);
    expect(radToCounts(j, -0.4)).toBe(12000 + Math.round((0.4 * cpr) / (2 * Math.PI)));
  });

  it('round-trips across the wrap, within half a count', () => {
    let wrapped = false;
    let previous = radToCounts(j, j.limits.positionMin);
    for (const rad of sweep(j, 1000)) {
      const counts = radToCounts(j, rad);
      if (Math.abs(counts - previous) > cpr / 2) wrapped = true;
      previous = counts;
      expect(Math.abs(countsToRad(j, counts) - rad)).toBeLessThanOrEqual(Math.PI / cpr + 1e-15);
    }
    expect(wrapped).toBe(true);
  });

  it('reads an unwrapped count the same as its wrapped equal', () => {
    expect(countsToRad(j, 19040)).toBeCloseTo(countsToRad(j, 19040 - cpr), 15);
    expect(countsToRad(j, 19040 - 3 * cpr)).toBeCloseTo(countsToRad(j, 19040 - cpr), 15);
  });

  it('maps every count to the angle nearest the zero, within half a turn', () => {
    const forward = joint({ countsPerRev: cpr, gearRatio: 1, zeroOffsetCounts: 100, singleTurn: true });
    for (let c = 0; c < cpr; c += 97) {
      const rad = countsToRad(forward, c);
      expect(rad).toBeGreaterThanOrEqual(-Math.PI);
      expect(rad).toBeLessThan(Math.PI);
    }
    expect(countsToRad(forward, 100 + cpr / 2)).toBeCloseTo(-Math.PI, 15);
  });

  it('round-trips the built-in quadruped knees, two of which wrap inside their range', () => {
    const knees = getProfile('quadruped12').joints.filter((x) => x.encoder.singleTurn);
    expect(knees).toHaveLength(4);
    let wrappingKnees = 0;
    for (const knee of knees) {
      const lo = radToCounts(knee, knee.limits.positionMin);
      const hi = radToCounts(knee, knee.limits.positionMax);
      // The range spans less than half a turn, so a larger jump between its ends is a wrap.
      if (Math.abs(hi - lo) > knee.encoder.countsPerRev / 2) wrappingKnees++;
      for (const rad of sweep(knee, 100)) {
        expect(Math.abs(countsToRad(knee, radToCounts(knee, rad)) - rad)).toBeLessThanOrEqual(Math.PI / knee.encoder.countsPerRev + 1e-15);
      }
    }
    expect(wrappingKnees).toBe(2);
  });
});

describe('rates and currents', () => {
  it('converts counts/s with direction and gear, no offset', () => {
    const j = joint({ direction: -1, zeroOffsetCounts: 5000 });
    expect(cpsToRadPerSec(j, 40960)).toBeCloseTo(-2 * Math.PI, 12);
    expect(radPerSecToCps(j, -2 * Math.PI)).toBeCloseTo(40960, 9);
    expect(cpsToRadPerSec(j, radPerSecToCps(j, 1.234))).toBeCloseTo(1.234, 12);
  });

  it('converts current and torque with the joint torque constant', () => {
    const j = joint({});
    expect(currentToTorque(j, 2)).toBe(5);
    expect(torqueToCurrent(j, 5)).toBe(2);
    expect(torqueToCurrent(j, currentToTorque(j, -3.3))).toBeCloseTo(-3.3, 12);
  });
});
