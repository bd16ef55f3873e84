/**
 * Switching between action chunks stays within the jerk of the latent path: the same robot, goal
 * and latency (50 ms, simulated time, commands through the edge's limiter) driven once by
 * goal-seeking action chunks and once by the reference decoder's chunks, both with crossfade
 * (the rig of chunk-policy-latency.bench.ts). Deterministic: no wall clock involved.
 */
import { describe, expect, it } from 'vitest';
import { runChunkRobot } from './chunk-policy-latency.bench.js';

describe('action chunks against the latent path', () => {
  it('reaches the goal with a peak jerk no higher than the latent path at the same latency', async () => {
    const chunks = await runChunkRobot('crossfade', 50);
    const latent = await runChunkRobot('latent-crossfade', 50);
    expect(chunks.completionS).not.toBeNull();
    expect(latent.completionS).not.toBeNull();
    expect(chunks.peakJerk).toBeGreaterThan(0);
    expect(chunks.peakJerk).toBeLessThanOrEqual(latent.peakJerk * 1.001);
  }, 60_000);
});
