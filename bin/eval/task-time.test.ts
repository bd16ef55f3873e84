/** The eval's run lengths come from the brain's plan and the run's latencies (task-time.ts). */
import { describe, expect, it } from 'vitest';
import { plannedSteps, taskDurationS } from './task-time.js';
import { TASKS, condition } from './suite.js';

const task = (profile: string, id: string) => {
  const t = TASKS.find((x) => x.profile === profile && x.id === id);
  if (t === undefined) throw new Error(`no task ${profile}/${id}`);
  return t;
};

describe('eval run length', () => {
  it('walks the brain\'s own program: a wave is 3 x (out, in) and back, a sequence its poses', () => {
    const wave = plannedSteps(task('arm6-gripper', 'wave'));
    expect(wave.map((s) => s.label)).toEqual(['wave-out', 'wave-in', 'wave-out', 'wave-in', 'wave-out', 'wave-in', 'wave-base']);
    expect(wave.every((s) => s.motionS >= 0.5)).toBe(true);
    expect(plannedSteps(task('quadruped12', 'sequence')).map((s) => s.label)).toEqual(['wide', 'lie', 'home']);
  });

  it('grows with the brain\'s round trip by one wait per step, and keeps a hold task\'s own length', () => {
    const wave = task('arm6-gripper', 'wave');
    const steps = plannedSteps(wave).length;
    const at = (ms: number): number => taskDurationS(wave, condition('crossfade', 'reference', ms), 10);
    // Each step (and the first plan) waits for the round trip and its whole jitter (latency / 5).
    expect(at(500) - at(0)).toBeCloseTo((steps + 1) * 0.5 * 1.2, 9);
    const motion = plannedSteps(wave).reduce((s, p) => s + p.motionS, 0);
    expect(at(500)).toBeGreaterThan(motion + (steps + 1) * 0.6 + wave.holdS);
    expect(taskDurationS(task('arm6-gripper', 'hold'), condition('crossfade', 'reference', 500), 10)).toBe(10);
  });

  it('names the task when the brain does not understand its instruction', () => {
    expect(() => plannedSteps({ id: 'x', profile: 'arm6-gripper', instruction: 'dance', holdS: 1 })).toThrow(/arm6-gripper\/x: instruction "dance"/);
  });
});
