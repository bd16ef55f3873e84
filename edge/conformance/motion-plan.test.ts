/**
 * The conformance tool's only motion, checked as a property over random poses of every profile:
 * whatever the MCU does with the targets (clamps them or not), no target lies outside the
 * profile's limits, none is more than BEYOND windows from where the joint is, the temporary
 * CONFIG is no wider than WINDOW_RAD around the pose and no faster than SLOW_RAD_S, and a target
 * beyond the window is what a clamping MCU has to clamp.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countsToRad, getProfile, listProfiles, radPerSecToCps, radToCounts } from '../../hardware/index.js';
import { buildConfig } from '../serial/handshake.js';
import { BEYOND, SLOW_RAD_S, WINDOW_RAD, planClampMotion } from './motion-plan.js';

describe.each(listProfiles())('clamping motion plan for %s', (id) => {
  const profile = getProfile(id);
  const base = buildConfig(profile, 100, 100);
  const pose = fc.tuple(...profile.joints.map((j) => fc.double({ min: j.limits.positionMin, max: j.limits.positionMax, noNaN: true })));

  it('stays inside the profile, near the pose, slow; targets outside the window are the ones to clamp', () => {
    fc.assert(fc.property(pose, (q) => {
      const counts = profile.joints.map((j, i) => radToCounts(j, q[i] as number));
      const plan = planClampMotion(profile, base, counts);
      // No plan only when no joint has room to move 1.5 windows towards its farther limit.
      expect(typeof plan === 'string' ? plan : 'planned').toMatch(/^(planned|no joint has room.*)$/);
      if (typeof plan === 'string') return;
      profile.joints.forEach((j, i) => {
        const target = countsToRad(j, plan.target[i] as number);
        const start = countsToRad(j, plan.start[i] as number);
        const halfCount = Math.PI / (j.encoder.countsPerRev * j.encoder.gearRatio);
        expect(target).toBeGreaterThanOrEqual(j.limits.positionMin - halfCount);
        expect(target).toBeLessThanOrEqual(j.limits.positionMax + halfCount);
        expect(Math.abs(target - start)).toBeLessThanOrEqual(BEYOND * WINDOW_RAD + 2 * halfCount);
        expect(plan.config.velMax[i] as number).toBeLessThanOrEqual(Math.abs(radPerSecToCps(j, SLOW_RAD_S)) * (1 + 1e-6));
        const lo = plan.config.posMin[i] as number, hi = plan.config.posMax[i] as number;
        expect(lo).toBeLessThanOrEqual(plan.start[i] as number);
        expect(hi).toBeGreaterThanOrEqual(plan.start[i] as number);
        // A joint that is to move has a window of at most ±WINDOW_RAD, and its target outside it.
        const moves = plan.target[i] !== plan.start[i];
        const t = plan.target[i] as number;
        expect(!moves || Math.abs(countsToRad(j, hi) - countsToRad(j, lo)) <= 2 * WINDOW_RAD + 2 * halfCount).toBe(true);
        expect(!moves || t < lo || t > hi).toBe(true);
      });
    }), { seed: 0x5eed, numRuns: 100 });
  });
});
