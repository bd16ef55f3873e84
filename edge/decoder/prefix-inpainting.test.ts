/**
 * Prefix inpainting with the reference decoder of the arm6-gripper profile, when a new plan with a
 * different goal arrives: the new chunk's first k actions equal the committed prefix exactly, and
 * every step from the last committed action through the soft region (the rest of the old chunk,
 * weights ramping down) stays within each joint's velocity limit at the control period, while the
 * same plan decoded without the prefix jumps far beyond it. (A hard prefix alone cannot carry the
 * boundary for a low-variance model sampled in few steps: its last steps are still noisy relative
 * to the data's spread, so the model barely sees the prefix; the soft region is what keeps it
 * continuous, as in real-time chunking.)
 */
import { describe, expect, it } from 'vitest';
import { goalRangeFromLimits, encodeGoal } from '../../proto/latent/reference-goal.js';
import { getProfile } from '../../hardware/index.js';
import { loadDecoder } from './decoder-loader.js';
import { buildReferenceDecoder } from './models/reference-decoder.js';
import type { SamplerName } from './sampler-types.js';

const CONTROL_HZ = 50;
const H = 16;
const K = 4;
const SOFT = 8;
const B = 64;

const profile = getProfile('arm6-gripper');
const J = profile.joints.length;
const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
const vmax = profile.joints.map((j) => j.limits.velocityMax);

function options(parameterization: 'epsilon' | 'velocity'): Parameters<typeof buildReferenceDecoder>[0] {
  return {
    actionDim: J, horizon: H, parameterization, sigma: 0.01,
    actionMean: [...range.center], actionStd: [...range.halfRange], stateMean: [...range.center], stateStd: [...range.halfRange],
  };
}

describe('prefix inpainting', () => {
  it.each([['epsilon', 'ddim', 10], ['velocity', 'euler', 10], ['velocity', 'heun', 4]] as const)('%s model, %s %i steps', async (parameterization, sampler: SamplerName, steps) => {
    const d = await loadDecoder(buildReferenceDecoder(options(parameterization)), { batch: B });
    const home = profile.poses.home ?? new Array<number>(J).fill(0);
    // The old plan: towards goal 1 in 15 steps (peak 2.5 rad/s). Its first chunk is executing.
    const goal1 = home.map((q, j) => q + 0.4 * Math.sin(j + 1));
    const old = await d.core.decode({ latent: encodeGoal({ position: goal1, stepsToGoal: 15, from: home }, range), state: Float32Array.from(home), seed: 7, sampler, steps }, () => false);
    if (old.status !== 'done') throw new Error('old chunk not done');
    const oldChunk = old.actions.slice(0, H * J);
    // The new plan answers an observation taken when the old chunk started (the state then: home),
    // towards another goal. While it was computed, the old chunk's rows 0..2 were executed and rows
    // 3..3+K-1 committed: the new chunk starts at row 3 of the old one.
    const prefix = oldChunk.slice(3 * J, (3 + K + SOFT) * J);
    const state = Float32Array.from(home);
    const goal2 = home.map((q, j) => q - 0.2 * Math.cos(j));
    const latent = encodeGoal({ position: goal2, stepsToGoal: 30, from: home }, range);
    const withPrefix = await d.core.decode({ latent, state, seed: 8, sampler, steps, prefix: { actions: prefix, committed: K, softWeight: 1 } }, () => false);
    if (withPrefix.status !== 'done') throw new Error('not done');
    const a = withPrefix.actions.slice();
    const without = await d.core.decode({ latent, state, seed: 8, sampler, steps }, () => false);
    if (without.status !== 'done') throw new Error('not done');
    const dt = 1 / CONTROL_HZ;
    let worstWith = 0, worstWithout = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < K * J; i++) expect(a[b * H * J + i]).toBe(prefix[i]);
      for (let j = 0; j < J; j++) {
        const limit = (vmax[j] as number) * dt;
        for (let h = K; h <= K + SOFT; h++) {
          worstWith = Math.max(worstWith, Math.abs((a[b * H * J + h * J + j] as number) - (a[b * H * J + (h - 1) * J + j] as number)) / limit);
        }
        const last = prefix[(K - 1) * J + j] as number;
        worstWithout = Math.max(worstWithout, Math.abs((without.actions[b * H * J + K * J + j] as number) - last) / limit);
      }
    }
    expect(worstWith, 'largest step from the boundary through the soft region / (velocity limit x control period)').toBeLessThan(1);
    expect(worstWithout, 'the boundary step without the prefix (shows the test can fail)').toBeGreaterThan(1);
    await d.session.release();
  });
});
