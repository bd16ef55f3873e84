import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import { ManualClock } from '../clock.js';
import type { Observation } from '../estimation/index.js';
import { SimulatedCamera, type JointStateReader } from './simulated-camera.js';

const profile = getProfile('arm6-gripper');

function stateOf(positions: number[]): JointStateReader & { positions: number[] } {
  return {
    jointCount: positions.length,
    positions,
    read(out: Observation): boolean {
      out.sampleCount = 1;
      out.position.set(this.positions);
      return true;
    },
  };
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

describe('SimulatedCamera', () => {
  it('renders valid 160x120 JPEGs whose content follows the joint angles', () => {
    const clock = new ManualClock();
    const state = stateOf(profile.joints.map(() => 0));
    const cam = new SimulatedCamera({ state, profile, clock });
    const f0 = cam.latest();
    expect(f0).not.toBeNull();
    if (f0 === null) return;
    expect(f0).toMatchObject({ cameraId: 'sim', encoding: 'jpeg', width: 160, height: 120, captureTimeUs: clock.nowUs(), frameSeq: 1 });
    const img0 = jpeg.decode(f0.data, { useTArray: true });
    expect([img0.width, img0.height]).toEqual([160, 120]);

    // Same state, a later frame: (nearly) the same picture.
    clock.advance(100);
    const same = cam.latest();
    expect(same?.frameSeq).toBe(2);
    expect(meanAbsDiff(img0.data, jpeg.decode((same as { data: Buffer }).data, { useTArray: true }).data)).toBeLessThan(0.5);

    // Move the joints: a visibly different picture.
    state.positions = profile.joints.map((j) => j.limits.positionMin + 0.8 * (j.limits.positionMax - j.limits.positionMin));
    clock.advance(100);
    const moved = cam.latest();
    expect(moved?.frameSeq).toBe(3);
    expect(meanAbsDiff(img0.data, jpeg.decode((moved as { data: Buffer }).data, { useTArray: true }).data)).toBeGreaterThan(3);
  });

  it('renders at most at its rate and hands out the same frame in between', () => {
    const clock = new ManualClock();
    const cam = new SimulatedCamera({ state: stateOf(profile.joints.map(() => 0.1)), profile, clock, rateHz: 10 });
    const a = cam.latest();
    clock.advance(50);
    expect(cam.latest()).toBe(a);
    clock.advance(50);
    expect(cam.latest()).not.toBe(a);
  });

  it('refuses a state of the wrong joint count', () => {
    expect(() => new SimulatedCamera({ state: stateOf([0, 0]), profile })).toThrow(/2 joints, profile "arm6-gripper" 7/);
  });
});
