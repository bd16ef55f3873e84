/**
 * Orientation against the simulated plant's truth, 1 kHz in simulated time: standing still, with the
 * base rotating, and through a fall; gyro bias convergence; the MCU's fused orientation published.
 * Bounds are the goals (1° RMS static, 3° in motion), not measured values.
 */
import { describe, expect, test } from 'vitest';
import { getProfile, listProfiles } from '../../hardware/index.js';
import { Valid } from './estimation-flags.js';
import type { TiltEvent } from './estimator-options.js';
import { newObservation } from './observation.js';
import { quatAngleBetween } from './quat-math.js';
import { runOrientation } from './testing/orientation-run.js';

const DEG = Math.PI / 180;
const imuProfiles = listProfiles().filter((id) => getProfile(id).imu !== null);

describe.each(imuProfiles)('orientation, %s', (id) => {
  const profile = getProfile(id);

  test('standing still: under 1° RMS, 2° max', () => {
    const { errors } = runOrientation(profile, [{ seconds: 0.5, measure: false }, { seconds: 4, measure: true }]);
    const e = errors[0];
    expect(e?.rms).toBeLessThan(1 * DEG);
    expect(e?.max).toBeLessThan(2 * DEG);
  });

  test('a slow lean raises tilt-warning, then fall at the fall tilt, then tilt-cleared when back upright', () => {
    const events: string[] = [];
    runOrientation(profile, [
      { seconds: 0.5, measure: false },
      { seconds: 1.0, measure: false, start: (f) => f.plant.setBaseAngularVelocity([0.6, 0, 0]) }, // to ~34°
      { seconds: 0.5, measure: false, start: (f) => f.plant.setBaseAngularVelocity([0, 0, 0]) },
      { seconds: 0.5, measure: false, start: (f) => f.plant.setBaseAngularVelocity([0.6, 0, 0]) }, // to ~51°
      { seconds: 1.4, measure: false, start: (f) => f.plant.setBaseAngularVelocity([-0.6, 0, 0]) }, // back to ~3°
      { seconds: 0.2, measure: false, start: (f) => f.plant.setBaseAngularVelocity([0, 0, 0]) },
    ], {}, 7, (e) => {
      e.on('tilt-warning', () => events.push('tilt-warning'));
      e.on('fall', () => events.push('fall'));
      e.on('tilt-cleared', () => events.push('tilt-cleared'));
    });
    expect(events).toEqual(['tilt-warning', 'fall', 'tilt-cleared']);
  });

  test('base rotating about all three axes: under 3° RMS', () => {
    const { errors } = runOrientation(profile, [
      { seconds: 1, measure: false },
      { seconds: 5, measure: true, start: (f) => f.plant.setBaseAngularVelocity([0.3, -0.2, 0.6]) },
    ]);
    expect(errors[0]?.rms).toBeLessThan(3 * DEG);
    expect(errors[0]?.max).toBeLessThan(5 * DEG);
  });

  test('a fall: under 3° RMS from its start to 2 s after; one early fall event, fallen flag', () => {
    const events: string[] = [];
    let fall: TiltEvent | undefined;
    const { est, errors } = runOrientation(profile, [
      { seconds: 1, measure: false },
      { seconds: 2.4, measure: true, start: (f) => f.plant.injectFault({ kind: 'fall' }) },
    ], {}, 11, (e) => {
      e.on('tilt-warning', () => events.push('tilt-warning'));
      e.on('fall', (ev) => { events.push('fall'); fall = ev; });
      e.on('tilt-cleared', () => events.push('tilt-cleared'));
    });
    expect(errors[0]?.rms).toBeLessThan(3 * DEG);
    expect(errors[0]?.max).toBeLessThan(6 * DEG);
    // The topple is fast (4 rad/s at 25°), so the rate criterion reports the fall as soon as the
    // warning tilt is reached, long before the 50° tilt: one 'fall', which implies the warning.
    expect(events).toEqual(['fall']);
    expect(fall?.tiltRad).toBeGreaterThan(25 * DEG);
    expect(fall?.tiltRad).toBeLessThan(30 * DEG);
    expect(fall?.tiltRateRadS).toBeGreaterThan(1.5);
    const obs = newObservation(est.jointCount);
    expect(est.read(obs)).toBe(true);
    expect(obs.fallen).toBe(true);
    expect(obs.tiltRad).toBeGreaterThan(85 * DEG);
    expect(obs.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
  });

  test('the calibrated accelerometer reads gravity as specific force, up in the base frame, when still', () => {
    const { est } = runOrientation(profile, [{ seconds: 0.5, measure: false }]);
    const a = est.baseAccel(new Float64Array(3));
    expect(a).not.toBeNull();
    const [x, y, z] = a as Float64Array;
    expect(Math.abs(x as number)).toBeLessThan(0.3);
    expect(Math.abs(y as number)).toBeLessThan(0.3);
    expect(Math.abs((z as number) - 9.80665)).toBeLessThan(0.3);
  });

  test('gyro bias converges to the plant\'s true bias within 3e-4 rad/s per axis after 5 s still', () => {
    const { est, feed } = runOrientation(profile, [{ seconds: 5, measure: false }]);
    const b = est.gyroBiasSensor(new Float64Array(3));
    for (let i = 0; i < 3; i++) expect(Math.abs((b[i] as number) - (feed.plant.truth.gyroBias[i] as number))).toBeLessThan(3e-4);
    // Started from zero: the estimate had to move.
    expect(Math.hypot(...b)).toBeGreaterThan(0.002);
  });
});

test('with a fused orientation from the MCU (arm), the published orientation is the MCU\'s, in the base frame', () => {
  const profile = getProfile('arm6-gripper');
  expect(profile.imu?.fusedOrientation).toBe(true);
  const { est, feed } = runOrientation(profile, [{ seconds: 2, measure: false, start: (f) => f.plant.setBaseAngularVelocity([0.2, 0.1, 0.4]) }]);
  const obs = newObservation(est.jointCount);
  est.read(obs);
  // The MCU's quaternion is exact at its last IMU sample (500 Hz): within one sample's rotation.
  expect(quatAngleBetween(obs.orientation, feed.plant.truth.baseQuat)).toBeLessThan(0.05 * DEG);
  expect(obs.validity & Valid.ORIENTATION).toBe(Valid.ORIENTATION);
});

test('without an IMU (profile imu null), orientation and rate are never valid and no IMU event is raised', () => {
  const profile = { ...getProfile('arm6-gripper'), imu: null };
  const events: unknown[] = [];
  const { est } = runOrientation(profile, [{ seconds: 0.1, measure: false }], {}, 7, (e) => e.on('sensor-fault', (ev) => events.push(ev)));
  const obs = newObservation(est.jointCount);
  est.read(obs);
  expect(obs.validity & (Valid.ORIENTATION | Valid.ANGULAR_RATE)).toBe(0);
  expect(obs.validity & Valid.JOINT_POSITION).toBe(Valid.JOINT_POSITION);
  expect(est.baseAccel(new Float64Array(3))).toBeNull();
  expect(events).toEqual([]);
});
