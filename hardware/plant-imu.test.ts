import { describe, expect, it } from 'vitest';
import { GRAVITY, getProfile, newSensorReading, Plant, type SensorReading } from './index.js';
import { quatAngle } from './quaternion.js';

const arm = getProfile('arm6-gripper');
const quad = getProfile('quadruped12');

/** Mean and standard deviation of each IMU axis over `samples` IMU periods. */
function imuStats(plant: Plant, samples: number): { accelMean: number[]; accelStd: number[]; gyroMean: number[]; gyroStd: number[] } {
  const rate = plant.profile.imu?.rateHz ?? NaN;
  const r = newSensorReading(plant.jointCount);
  const sum = { a: [0, 0, 0], a2: [0, 0, 0], g: [0, 0, 0], g2: [0, 0, 0] };
  for (let k = 0; k < samples; k++) {
    plant.step(1 / rate);
    plant.sense(r);
    for (let i = 0; i < 3; i++) {
      const a = r.accel[i] as number, g = r.gyro[i] as number;
      sum.a[i] = (sum.a[i] as number) + a;
      sum.a2[i] = (sum.a2[i] as number) + a * a;
      sum.g[i] = (sum.g[i] as number) + g;
      sum.g2[i] = (sum.g2[i] as number) + g * g;
    }
  }
  const mean = (s: number[]) => s.map((x) => x / samples);
  const std = (s: number[], s2: number[]) => s.map((x, i) => Math.sqrt((s2[i] as number) / samples - (x / samples) ** 2));
  return { accelMean: mean(sum.a), accelStd: std(sum.a, sum.a2), gyroMean: mean(sum.g), gyroStd: std(sum.g, sum.g2) };
}

function expectVec(actual: ArrayLike<number>, expected: readonly number[], tolerance: number): void {
  expected.forEach((e, i) => expect(Math.abs((actual[i] as number) - e)).toBeLessThan(tolerance));
}

describe('IMU at rest', () => {
  it.each([arm, quad])('$id reads gravity up, the configured gyro bias, and the configured noise', (profile) => {
    const imu = profile.imu;
    if (imu === null) throw new Error('profile has an IMU');
    const plant = new Plant(profile, { seed: 7 });
    const s = imuStats(plant, 4000);
    // Both mounts keep the sensor's z axis up (the quadruped's is turned about z only).
    expectVec(s.accelMean, [0, 0, GRAVITY * imu.accelScale], 5 * imu.accelNoiseStd / Math.sqrt(4000) + 1e-6);
    expectVec(s.gyroMean, imu.gyroBias, 5 * imu.gyroNoiseStd / Math.sqrt(4000) + 1e-6);
    for (const sd of s.accelStd) expect(sd / imu.accelNoiseStd).toBeCloseTo(1, 1);
    for (const sd of s.gyroStd) expect(sd / imu.gyroNoiseStd).toBeCloseTo(1, 1);
    expectVec(plant.truth.gyroBias, imu.gyroBias, 1e-15);
  });

  it('repeats the last sample between IMU sample instants', () => {
    const plant = new Plant(arm); // IMU at 500 Hz
    const a = newSensorReading(7), b = newSensorReading(7);
    plant.step(0.0001);
    plant.sense(a);
    plant.step(0.001);
    plant.sense(b);
    expect(Array.from(b.accel)).toEqual(Array.from(a.accel));
    plant.step(0.001);
    plant.sense(b);
    expect(Array.from(b.accel)).not.toEqual(Array.from(a.accel));
  });
});

describe('base rotation', () => {
  it('integrates a body rate into the orientation, and the IMU sees it', () => {
    const plant = new Plant(arm, { jointNoise: { velocityRadPerSec: 0, currentA: 0 } });
    const r = newSensorReading(7);
    plant.setBaseAngularVelocity([1, 0, 0]);
    for (let k = 0; k < 100; k++) plant.step(Math.PI / 2 / 100);
    expect(quatAngle(plant.truth.baseQuat)).toBeCloseTo(Math.PI / 2, 9);
    expectVec(plant.truth.baseQuat, [Math.SQRT1_2, Math.SQRT1_2, 0, 0], 1e-9);
    expectVec(plant.truth.baseAngVel, [1, 0, 0], 1e-12);
    plant.sense(r);
    const bias = arm.imu?.gyroBias ?? [];
    expectVec(r.gyro, [1 + (bias[0] ?? 0), bias[1] ?? 0, bias[2] ?? 0], 0.01);
    // Tipped +90° about x: the base's +y axis points up.
    expectVec(r.accel, [0, GRAVITY, 0], 0.1);
    // Fused orientation: sensor → world, here mount = identity.
    expectVec(r.quat, [Math.SQRT1_2, Math.SQRT1_2, 0, 0], 1e-6);
  });

  it('composes a long rotation exactly (one turn in many small steps) and stays unit', () => {
    const plant = new Plant(quad);
    plant.setBaseAngularVelocity([0.3, -0.4, 1.2]);
    const turn = (2 * Math.PI) / Math.hypot(0.3, -0.4, 1.2);
    plant.step(turn);
    expect(quatAngle(plant.truth.baseQuat)).toBeLessThan(1e-9);
    expect(Math.hypot(...plant.truth.baseQuat)).toBeCloseTo(1, 12);
  });

  it('expresses rates in the sensor frame through the mount', () => {
    // quadruped12 mount: 90° about z, so the sensor's y axis is the base's -x axis.
    const plant = new Plant(quad);
    const r = newSensorReading(12);
    plant.setBaseAngularVelocity([1, 0, 0]);
    plant.step(0.01);
    plant.sense(r);
    const bias = quad.imu?.gyroBias ?? [];
    expectVec(r.gyro, [bias[0] ?? 0, -1 + (bias[1] ?? 0), bias[2] ?? 0], 0.015);
    expect(Array.from(r.quat).every(Number.isNaN)).toBe(true); // no fused orientation
  });

  it('reads NaN on every IMU channel for a robot without an IMU', () => {
    const plant = new Plant({ ...arm, imu: null });
    const r: SensorReading = newSensorReading(7);
    plant.sense(r);
    expect([...r.accel, ...r.gyro, ...r.quat].every(Number.isNaN)).toBe(true);
    expect(Array.from(plant.truth.gyroBias)).toEqual([0, 0, 0]);
  });
});
