import { describe, expect, it } from 'vitest';
import { MotionStats } from './motion-stats.js';

describe('MotionStats', () => {
  it('reports nothing before two samples, then the worst joint\'s tracking RMS and velocity std', () => {
    const m = new MotionStats(2, 4);
    expect(m.trackingRad()).toBeNull();
    m.add([0, 1], [0, 0.5], [0, 1]);
    expect(m.jitterRadS()).toBeNull();
    m.add([0, 1], [0, -0.5], [0, 0.9]);
    expect(m.trackingRad()).toBeCloseTo(Math.sqrt(0.01 / 2), 12);
    expect(m.jitterRadS()).toBeCloseTo(0.5, 12);
  });

  it('counts a steady motion as no jitter, a trembling hold as jitter, and keeps only the window', () => {
    const m = new MotionStats(1, 3);
    for (let k = 0; k < 10; k++) m.add([0.1 * k], [2], [0.1 * k]);
    expect(m.jitterRadS()).toBe(0);
    expect(m.trackingRad()).toBe(0);
    for (let k = 0; k < 3; k++) m.add([0], [k % 2 === 0 ? 0.6 : -0.6], [0]);
    expect(m.jitterRadS()).toBeCloseTo(Math.sqrt(0.36 - 0.04), 9); // the three newest only
    m.add([Number.NaN], [0], [0]); // skipped
    expect(m.jitterRadS()).toBeCloseTo(Math.sqrt(0.36 - 0.04), 9);
    m.clear();
    expect(m.jitterRadS()).toBeNull();
  });
});
