/**
 * Each bad-input case produces its Detected flag, clears the right validity bit, and raises one
 * 'sensor-fault' event (and one 'sensor-recovered' once clean again); nothing bad reaches the
 * published values.
 */
import { describe, expect, test } from 'vitest';
import { getProfile, GRAVITY, type RobotProfile } from '../../hardware/index.js';
import { StateFlag } from '../../proto/wire/index.js';
import { Detected, Valid } from './estimation-flags.js';
import type { SensorFaultEvent, StateEstimatorOptions } from './estimator-options.js';
import { newObservation, type Observation } from './observation.js';
import { StateEstimator } from './state-estimator.js';
import { PlantFeed } from './testing/plant-feed.js';
import { measuredOf } from '../mqtt/summary-fields.js';

const quad = getProfile('quadruped12');
const arm = getProfile('arm6-gripper');

interface Rig {
  feed: PlantFeed;
  est: StateEstimator;
  obs: Observation;
  faults: SensorFaultEvent[];
  recovered: SensorFaultEvent[];
  /** Runs k samples; `tamper` may edit each STATE before the estimator sees it. */
  run(k: number, tamper?: (feed: PlantFeed, i: number) => void): Observation;
}

function rig(profile: RobotProfile, opts: StateEstimatorOptions = {}): Rig {
  const feed = new PlantFeed(profile, { seed: 9 });
  const est = new StateEstimator(profile, opts);
  const obs = newObservation(est.jointCount);
  const faults: SensorFaultEvent[] = [];
  const recovered: SensorFaultEvent[] = [];
  est.on('sensor-fault', (e) => faults.push(e));
  est.on('sensor-recovered', (e) => recovered.push(e));
  return {
    feed, est, obs, faults, recovered,
    run(k, tamper) {
      for (let i = 0; i < k; i++) {
        feed.step();
        tamper?.(feed, i);
        est.update(feed.input);
      }
      est.read(obs);
      return obs;
    },
  };
}

const kinds = (evs: SensorFaultEvent[]): string[] => evs.map((e) => `${e.sensor}:${e.kind}${e.joint >= 0 ? `#${e.joint}` : ''}`);

describe('joints', () => {
  test('encoder glitch (plant fault): flagged, position held, recovered, never published', () => {
    const r = rig(quad);
    r.run(300);
    const before = r.obs.position[1] as number;
    r.feed.plant.injectFault({ kind: 'encoder-glitch', joint: 1, counts: 5000 });
    const o = r.run(1);
    expect(o.detected & Detected.ENCODER_GLITCH).toBe(Detected.ENCODER_GLITCH);
    expect(o.validity & Valid.JOINT_POSITION).toBe(0);
    expect(o.jointValidMask & (1 << 1)).toBe(0);
    expect(o.position[1]).toBeCloseTo(before, 3); // held, not the +2.1 rad reading
    expect(kinds(r.faults)).toEqual(['joint:ENCODER_GLITCH#1']);
    expect(r.faults[0]?.detail).toMatch(/joint 1 \(fl_hip_flex\): reading \d+ counts/);
    r.run(20);
    expect(r.obs.detected).toBe(0);
    expect(r.obs.validity & Valid.JOINT_POSITION).toBe(Valid.JOINT_POSITION);
    expect(kinds(r.recovered)).toEqual(['joint:ENCODER_GLITCH#1']);
  });

  test('glitch on a wrap-around single-turn knee is caught too', () => {
    const r = rig(quad);
    r.run(100);
    r.feed.plant.injectFault({ kind: 'encoder-glitch', joint: 2, counts: 9000 });
    r.run(1);
    expect(kinds(r.faults)).toEqual(['joint:ENCODER_GLITCH#2']);
  });

  test('a real jump (every reading shifted from now on) is accepted after glitchAcceptAfter samples', () => {
    const r = rig(quad, { glitchAcceptAfter: 5 });
    r.run(100);
    const shift = 20000; // counts, 0.85 rad on a hip behind a 9:1 gear: more than 20 rad/s allows in 28 ms
    let published = 0;
    r.run(4, (f) => { f.input.msg.position[0] = (f.input.msg.position[0] as number) + shift; });
    published = r.obs.position[0] as number;
    expect(Math.abs(published - (r.feed.plant.truth.q[0] as number))).toBeLessThan(1e-3); // still held
    r.run(1, (f) => { f.input.msg.position[0] = (f.input.msg.position[0] as number) + shift; });
    const jump = (2 * Math.PI * shift) / (16384 * 9);
    expect((r.obs.position[0] as number) - (r.feed.plant.truth.q[0] as number)).toBeCloseTo(jump, 3);
    expect(kinds(r.faults)).toEqual(['joint:ENCODER_GLITCH#0']);
  });

  test('NaN velocity and current from a broken driver: flagged, counts velocity substituted, effort invalid', () => {
    const r = rig(quad);
    r.run(100);
    const o = r.run(5, (f) => { f.input.msg.velocity[4] = Number.NaN; f.input.msg.current[4] = Number.POSITIVE_INFINITY; });
    expect(o.detected & Detected.JOINT_NAN).toBe(Detected.JOINT_NAN);
    expect(o.validity & Valid.JOINT_EFFORT).toBe(0);
    expect(o.jointValidMask & (1 << 4)).toBe(0);
    expect(Number.isFinite(o.velocity[4])).toBe(true);
    expect(Number.isNaN(o.effort[4])).toBe(true);
    expect(kinds(r.faults)).toEqual(['joint:JOINT_NAN#4']);
    expect(r.faults[0]?.detail).toContain('velocity NaN counts/s, current Infinity A');
    r.run(20);
    expect(kinds(r.recovered)).toEqual(['joint:JOINT_NAN#4']);
    expect(r.obs.validity & Valid.JOINT_EFFORT).toBe(Valid.JOINT_EFFORT);
  });

  test('an absurd velocity (1e12 counts/s) is flagged VELOCITY_IMPOSSIBLE, not published, and the summary shows no measurement', () => {
    const r = rig(quad);
    r.run(100);
    const o = r.run(1, (f) => { f.input.msg.velocity[2] = 1e12; });
    expect(o.detected & Detected.VELOCITY_IMPOSSIBLE).toBe(Detected.VELOCITY_IMPOSSIBLE);
    expect(o.validity & Valid.JOINT_VELOCITY).toBe(0);
    expect(Math.abs(o.velocity[2] as number)).toBeLessThan(quad.joints[2]?.limits.velocityMax ?? 0);
    expect(kinds(r.faults)).toEqual(['joint:VELOCITY_IMPOSSIBLE#2']);
    expect(r.faults[0]?.detail).toMatch(/velocity 9\d{11} counts\/s = .* rad\/s, beyond 1.5 × velocityMax/);
    expect(measuredOf(o)).toBeNull(); // not a velocity of 0 where the reading was absurd
  });

  test('after restartTimeBase (an MCU restart) a reading on the new clock is the measurement, not a glitch held at the old value', () => {
    // Found by the model test: after a reboot, the first command after the resume started from a
    // stale position.
    const moved = (r: Rig): void => {
      r.feed.step();
      r.feed.input.mcuTimeUs = 1000; // the MCU's clock started over
      r.feed.input.msg.position[0] = (r.feed.input.msg.position[0] as number) + 2000; // the joint moved meanwhile
    };
    const stale = rig(quad);
    stale.run(50);
    moved(stale);
    stale.est.update(stale.feed.input);
    expect(kinds(stale.faults)).toEqual(['joint:ENCODER_GLITCH#0']); // without the restart: held
    const r = rig(quad);
    r.run(50);
    moved(r);
    r.est.restartTimeBase();
    r.est.update(r.feed.input);
    r.est.read(r.obs);
    expect(r.faults).toEqual([]);
    expect(r.obs.detected & Detected.ENCODER_GLITCH).toBe(0);
  });

  test('a NaN velocity makes the summary show no measurement rather than the substituted value', () => {
    const r = rig(quad);
    r.run(100);
    expect(measuredOf(r.obs)).not.toBeNull();
    const o = r.run(1, (f) => { f.input.msg.velocity[0] = Number.NaN; });
    expect(o.validity & Valid.JOINT_VELOCITY).toBe(0);
    expect(measuredOf(o)).toBeNull();
  });

  test('encoder freeze reported by the MCU (joint_fault_mask): the joint is invalid', () => {
    const r = rig(quad);
    r.run(100);
    r.feed.plant.injectFault({ kind: 'encoder-freeze', joint: 7 });
    const o = r.run(5);
    expect(o.detected & Detected.JOINT_MCU_FAULT).toBe(Detected.JOINT_MCU_FAULT);
    expect(o.validity & Valid.JOINT_POSITION).toBe(0);
    expect(kinds(r.faults)).toEqual(['joint:JOINT_MCU_FAULT#7']);
  });

  test('an MCU velocity that contradicts the counts: flagged, the counts-derived velocity published', () => {
    const r = rig(quad);
    r.run(100);
    const o = r.run(3, (f) => { f.input.msg.velocity[3] = 1e5; }); // ≈ 3.8 rad/s while standing
    expect(o.detected & Detected.VELOCITY_MISMATCH).toBe(Detected.VELOCITY_MISMATCH);
    expect(o.validity & Valid.JOINT_VELOCITY).toBe(0);
    expect(Math.abs(o.velocity[3] as number)).toBeLessThan(0.1);
    expect(kinds(r.faults)).toEqual(['joint:VELOCITY_MISMATCH#3']);
  });
});

describe('IMU', () => {
  test('imu-freeze: frozen after the stated time, orientation invalid, one event each way', () => {
    const r = rig(quad);
    r.run(500);
    r.feed.plant.setBaseAngularVelocity([0, 0, 0.5]);
    r.feed.plant.injectFault({ kind: 'imu-freeze' });
    r.run(19); // < 20 ms: not yet
    expect(r.obs.detected & Detected.IMU_FROZEN).toBe(0);
    const o = r.run(5);
    expect(o.detected & Detected.IMU_FROZEN).toBe(Detected.IMU_FROZEN);
    expect(o.detected & Detected.IMU_MCU_FAULT).toBe(Detected.IMU_MCU_FAULT); // the plant also sets FAULT_IMU
    expect(o.validity & (Valid.ORIENTATION | Valid.ANGULAR_RATE)).toBe(0);
    expect(kinds(r.faults)).toEqual(['imu:IMU_MCU_FAULT', 'imu:IMU_FROZEN']);
    r.feed.plant.clearFaults();
    r.feed.plant.setBaseAngularVelocity([0, 0, 0]);
    r.run(30);
    expect(r.obs.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
    expect(kinds(r.recovered).sort()).toEqual(['imu:IMU_FROZEN', 'imu:IMU_MCU_FAULT']);
  });

  test('a frozen IMU the MCU does not notice is still caught by repetition', () => {
    const r = rig(quad);
    r.run(200);
    const hold = new Float32Array(6);
    r.run(1, (f) => { hold.set(f.input.msg.accel); hold.set(f.input.msg.gyro, 3); });
    r.run(30, (f) => { f.input.msg.accel.set(hold.subarray(0, 3)); f.input.msg.gyro.set(hold.subarray(3)); });
    expect(kinds(r.faults)).toEqual(['imu:IMU_FROZEN']);
  });

  test('imu-nan: flagged, the filter is not poisoned, recovers with the right tilt', () => {
    const r = rig(quad);
    r.run(500);
    r.feed.plant.injectFault({ kind: 'imu-nan' });
    const o = r.run(50);
    expect(o.detected & Detected.IMU_NAN).toBe(Detected.IMU_NAN);
    expect(o.validity & (Valid.ORIENTATION | Valid.ANGULAR_RATE)).toBe(0);
    expect(Array.from(o.orientation).every(Number.isFinite)).toBe(true);
    expect(Array.from(r.est.filterOrientation).every(Number.isFinite)).toBe(true);
    expect(kinds(r.faults)).toContain('imu:IMU_NAN');
    // Meanwhile the base tips 20° with no IMU; after recovery, tilt is re-read from gravity.
    r.feed.plant.setBaseAngularVelocity([0.35, 0, 0]);
    r.run(1000);
    r.feed.plant.setBaseAngularVelocity([0, 0, 0]);
    r.feed.plant.clearFaults();
    r.run(30);
    expect(r.obs.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
    expect(r.obs.tiltRad).toBeCloseTo(0.35, 1);
    expect(kinds(r.recovered)).toContain('imu:IMU_NAN');
  });

  test('saturation: an accelerometer at its limit is flagged and not used for tilt', () => {
    const r = rig(quad, { accelSaturationMs2: 4 * GRAVITY });
    r.run(1000);
    r.feed.plant.injectFault({ kind: 'fall' }); // 8 g impact at 0.4 s
    r.run(450);
    expect(kinds(r.faults)).toEqual(['imu:IMU_SATURATED']);
    expect(r.faults[0]?.detail).toMatch(/at the limit \(39\.2 m\/s²/);
    r.run(100);
    expect(kinds(r.recovered)).toEqual(['imu:IMU_SATURATED']);
    expect(r.obs.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
  });

  test('gyro saturation: flagged, the clipped rate is not integrated', () => {
    const r = rig(quad);
    r.run(300);
    const q0 = Array.from(r.est.filterOrientation);
    r.run(5, (f) => { f.input.msg.gyro[2] = 40; });
    expect(kinds(r.faults)).toEqual(['imu:IMU_SATURATED']);
    expect(r.obs.validity & Valid.ANGULAR_RATE).toBe(0);
    // 5 ms at 40 rad/s would have turned the heading by 11°.
    const q1 = r.est.filterOrientation;
    expect(Math.abs((q1[0] as number) * (q0[0] as number) + (q1[3] as number) * (q0[3] as number))).toBeGreaterThan(0.9999);
  });

  test('an IMU that stops updating (STATE without the IMU block) is stale after 20 ms', () => {
    const r = rig(quad);
    r.run(300);
    const o = r.run(25, (f) => { f.input.msg.flags &= ~StateFlag.IMU; });
    expect(o.detected & Detected.IMU_STALE).toBe(Detected.IMU_STALE);
    expect(o.validity & Valid.ORIENTATION).toBe(0);
    expect(kinds(r.faults)).toEqual(['imu:IMU_STALE']);
  });

  test('fused orientation that disagrees with the host filter: mismatch flagged, orientation invalid', () => {
    const r = rig(arm);
    r.run(500);
    const s = Math.sin((10 * Math.PI) / 180 / 2), c = Math.cos((10 * Math.PI) / 180 / 2);
    const o = r.run(150, (f) => {
      // A drifting MCU fusion: its quaternion tilted 10° about x (q ⊗ rx).
      const q = f.input.msg.quat;
      const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
      q[0] = w * c - x * s; q[1] = w * s + x * c; q[2] = y * c + z * s; q[3] = z * c - y * s;
    });
    expect(o.detected & Detected.ORIENTATION_MISMATCH).toBe(Detected.ORIENTATION_MISMATCH);
    expect(o.validity & Valid.ORIENTATION).toBe(0);
    expect(kinds(r.faults)).toEqual(['imu:ORIENTATION_MISMATCH']);
    expect(r.faults[0]?.detail).toMatch(/differ by (9\.9|10\.0)\d°/);
  });

  test('a fused quaternion that is not unit: flagged, the host filter is published instead', () => {
    const r = rig(arm);
    r.run(300);
    const o = r.run(5, (f) => { f.input.msg.quat[0] = 3; });
    expect(o.detected & Detected.FUSED_INVALID).toBe(Detected.FUSED_INVALID);
    expect(o.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
    expect(Array.from(o.orientation)).toEqual(Array.from(r.est.filterOrientation));
    expect(kinds(r.faults)).toEqual(['imu:FUSED_INVALID']);
  });
});
