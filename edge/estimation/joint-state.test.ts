/**
 * Joint state against the simulated plant for every built-in profile: positions to within half an
 * encoder count through full-range moves (the quadruped's single-turn knees wrap around, several
 * joints are reversed or offset), velocities and efforts within the sensor noise, and no false alarm.
 */
import { describe, expect, test } from 'vitest';
import { countsPerRad, getProfile, listProfiles } from '../../hardware/index.js';
import { Valid } from './estimation-flags.js';
import { newObservation } from './observation.js';
import { StateEstimator } from './state-estimator.js';
import { PlantFeed } from './testing/plant-feed.js';

describe.each(listProfiles())('joint state, %s', (id) => {
  const profile = getProfile(id);
  const n = profile.joints.length;

  test('positions, velocities and efforts match the plant through full-range moves', () => {
    const feed = new PlantFeed(profile, { seed: 3 });
    const est = new StateEstimator(profile);
    const faults: string[] = [];
    est.on('sensor-fault', (ev) => faults.push(ev.detail));
    const obs = newObservation(n);
    const lo = profile.joints.map((j) => j.limits.positionMin + 0.05);
    const hi = profile.joints.map((j) => j.limits.positionMax - 0.05);
    const zeros = new Array<number>(n).fill(0);
    const minCounts = new Float64Array(n).fill(Infinity);
    const maxCounts = new Float64Array(n).fill(-Infinity);
    let worstPos = 0, worstVel = 0, worstEff = 0;
    for (let leg = 0; leg < 4; leg++) {
      feed.plant.setCommand('position', leg % 2 === 0 ? lo : hi, zeros, zeros);
      for (let k = 0; k < 1500; k++) {
        est.update(feed.step());
        expect(est.read(obs)).toBe(true);
        const t = feed.plant.truth;
        for (let j = 0; j < n; j++) {
          const jp = profile.joints[j];
          if (jp === undefined) throw new Error('joint');
          const c = feed.input.msg.position[j] as number;
          if (c < (minCounts[j] as number)) minCounts[j] = c;
          if (c > (maxCounts[j] as number)) maxCounts[j] = c;
          // Half a count of quantisation, relative to the joint's counts per rad.
          worstPos = Math.max(worstPos, Math.abs((obs.position[j] as number) - (t.q[j] as number)) * countsPerRad(jp));
          worstVel = Math.max(worstVel, Math.abs((obs.velocity[j] as number) - (t.qd[j] as number)));
          worstEff = Math.max(worstEff, Math.abs((obs.effort[j] as number) - (t.current[j] as number) * jp.torqueConstant) / jp.torqueConstant);
        }
        expect(obs.validity & (Valid.JOINT_POSITION | Valid.JOINT_VELOCITY | Valid.JOINT_EFFORT)).toBe(Valid.JOINT_POSITION | Valid.JOINT_VELOCITY | Valid.JOINT_EFFORT);
      }
    }
    expect(worstPos).toBeLessThanOrEqual(0.5 + 1e-6); // counts
    expect(worstVel).toBeLessThan(0.02); // rad/s: the MCU's velocity, noise σ = 0.002 rad/s
    expect(worstEff).toBeLessThan(0.06); // A-equivalent: current noise σ = 0.01 A
    expect(faults).toEqual([]);
    expect(obs.jointValidMask).toBe(2 ** n - 1);
    // Single-turn encoders whose zero puts the wrap inside the joint's range (the quadruped's front
    // knees) crossed it: both ends of 0..cpr-1 were seen while the angle stayed continuous.
    let wrapped = 0;
    profile.joints.forEach((jp, j) => {
      if (jp.encoder.singleTurn && (minCounts[j] as number) < jp.encoder.countsPerRev / 4 && (maxCounts[j] as number) > (3 * jp.encoder.countsPerRev) / 4) wrapped++;
    });
    expect(wrapped).toBe(profile.joints.some((jp) => jp.encoder.singleTurn) ? 2 : 0);
  });

  test('the counts-derived velocity tracks the plant within its stated delay and quantisation', () => {
    const feed = new PlantFeed(profile, { seed: 5 });
    const est = new StateEstimator(profile);
    const mid = profile.joints.map((j) => (j.limits.positionMin + j.limits.positionMax) / 2);
    const zeros = new Array<number>(n).fill(0);
    feed.plant.setCommand('position', mid, zeros, zeros);
    // Constant-velocity cruise (command a far target, sample once at cruise speed).
    let worst = 0;
    const hi = profile.joints.map((j) => j.limits.positionMax - 0.05);
    for (let k = 0; k < 3000; k++) {
      if (k === 1500) feed.plant.setCommand('position', hi, zeros, zeros);
      est.update(feed.step());
      if (k > 1500) {
        const cv = (est as unknown as { joints: { countVelocity: Float64Array } }).joints.countVelocity;
        profile.joints.forEach((jp, j) => {
          // Delay 4 ms at 1 kHz: error ≤ accelerationMax · 4 ms + one count per 8 ms.
          const bound = jp.limits.accelerationMax * 0.004 + 1 / countsPerRad(jp) / 0.008 + 1e-6;
          worst = Math.max(worst, Math.abs((cv[j] as number) - (feed.plant.truth.qd[j] as number)) / bound);
        });
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});
