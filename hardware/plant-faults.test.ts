import { describe, expect, it } from 'vitest';
import {
  FALL_DURATION_S,
  FAULT_ENCODER,
  FAULT_IMU,
  FAULT_MOTOR,
  GRAVITY,
  getProfile,
  newSensorReading,
  Plant,
  radToCounts,
  type JointProfile,
} from './index.js';
import { quatAngle } from './quaternion.js';

const arm = getProfile('arm6-gripper');
const quad = getProfile('quadruped12');
const N = arm.joints.length;
const zeros = new Float64Array(N);

function moving(profile = arm): Plant {
  const plant = new Plant(profile, { jointNoise: { velocityRadPerSec: 0, currentA: 0 } });
  const n = profile.joints.length;
  plant.setCommand('velocity', new Float64Array(n), new Float64Array(n).fill(0.5), new Float64Array(n));
  plant.step(0.2);
  return plant;
}

describe('joint faults', () => {
  it('motor: the joint goes limp and reports a motor fault on its bit; others keep working', () => {
    const plant = moving();
    plant.injectFault({ kind: 'motor', joint: 2 });
    expect(plant.faultBits()).toEqual({ faults: FAULT_MOTOR, jointFaultMask: 1 << 2 });
    plant.setCommand('position', [1, 1, 1, 1, 1, 1, 0.5], zeros, zeros);
    const q2 = plant.truth.q[2] as number;
    plant.step(2);
    expect(plant.truth.current[2]).toBe(0);
    expect(Math.abs((plant.truth.q[2] as number) - q2)).toBeLessThan(0.5 / 5); // coasted to rest: v0 / friction
    expect(plant.truth.q[0]).toBeCloseTo(1, 3);
    plant.clearFaults();
    expect(plant.faultBits()).toEqual({ faults: 0, jointFaultMask: 0 });
    plant.step(2);
    expect(plant.truth.q[2]).toBeCloseTo(1, 3);
  });

  it('encoder-glitch: the next reading jumps by the given counts, once, with no fault bit', () => {
    const plant = new Plant(arm);
    const r = newSensorReading(N);
    plant.sense(r);
    const before = r.encoderCounts[1] as number;
    plant.injectFault({ kind: 'encoder-glitch', joint: 1, counts: 500_000 });
    expect(plant.faultBits().faults).toBe(0);
    plant.sense(r);
    expect(r.encoderCounts[1]).toBe(before + 500_000);
    plant.sense(r);
    expect(r.encoderCounts[1]).toBe(before);
  });

  it('encoder-glitch on a single-turn encoder stays within one turn, as the sensor would report it', () => {
    const plant = new Plant(quad);
    const r = newSensorReading(12);
    plant.sense(r);
    const before = r.encoderCounts[2] as number;
    plant.injectFault({ kind: 'encoder-glitch', joint: 2, counts: 9000 });
    plant.sense(r);
    expect(r.encoderCounts[2]).toBe((before + 9000) % 16384);
  });

  it('encoder-freeze: counts stick while the joint moves, velocity reads 0, encoder fault reported', () => {
    const plant = moving();
    const r = newSensorReading(N);
    plant.injectFault({ kind: 'encoder-freeze', joint: 4 });
    const frozen = radToCounts(arm.joints[4] as JointProfile, plant.truth.q[4] as number);
    expect(plant.faultBits()).toEqual({ faults: FAULT_ENCODER, jointFaultMask: 1 << 4 });
    plant.step(0.3);
    plant.sense(r);
    expect(r.encoderCounts[4]).toBe(frozen);
    expect(r.velocityCps[4]).toBe(0);
    expect(r.encoderCounts[3]).toBe(radToCounts(arm.joints[3] as JointProfile, plant.truth.q[3] as number)); // others read on
    plant.clearFaults();
    plant.sense(r);
    expect(r.encoderCounts[4]).toBe(radToCounts(arm.joints[4] as JointProfile, plant.truth.q[4] as number));
  });

  it('combines faults of several joints in the mask', () => {
    const plant = new Plant(quad);
    plant.injectFault({ kind: 'motor', joint: 11 });
    plant.injectFault({ kind: 'encoder-freeze', joint: 0 });
    plant.injectFault({ kind: 'imu-nan' });
    expect(plant.faultBits()).toEqual({ faults: FAULT_MOTOR | FAULT_ENCODER | FAULT_IMU, jointFaultMask: (1 << 11) | 1 });
    expect(plant.faultBits()).toBe(plant.faultBits()); // shared until faults change: no allocation
  });

  it('refuses a joint index out of range', () => {
    const plant = new Plant(arm);
    expect(() => plant.injectFault({ kind: 'motor', joint: 7 })).toThrow('motor joint must be an integer in 0..6 (got 7)');
    expect(() => plant.injectFault({ kind: 'encoder-glitch', joint: 0, counts: 0.5 })).toThrow(RangeError);
  });
});

describe('IMU faults', () => {
  it('imu-freeze: the IMU repeats its last sample while the base turns; IMU fault reported', () => {
    const plant = new Plant(arm);
    const r = newSensorReading(N);
    plant.step(0.01);
    plant.sense(r);
    const frozen = [...r.accel, ...r.gyro, ...r.quat];
    plant.injectFault({ kind: 'imu-freeze' });
    expect(plant.faultBits().faults).toBe(FAULT_IMU);
    plant.setBaseAngularVelocity([0, 2, 0]);
    plant.step(0.5);
    plant.sense(r);
    expect([...r.accel, ...r.gyro, ...r.quat]).toEqual(frozen);
    plant.clearFaults();
    plant.step(0.01);
    plant.sense(r);
    expect(r.gyro[1]).toBeGreaterThan(1.9);
  });

  it('imu-nan: every IMU channel reads NaN; IMU fault reported', () => {
    const plant = new Plant(arm);
    const r = newSensorReading(N);
    plant.injectFault({ kind: 'imu-nan' });
    plant.step(0.01);
    plant.sense(r);
    expect([...r.accel, ...r.gyro, ...r.quat].every(Number.isNaN)).toBe(true);
    expect(plant.faultBits()).toEqual({ faults: FAULT_IMU, jointFaultMask: 0 });
  });
});

describe('fall', () => {
  it.each([
    { axis: 'x' as const, up: [0, GRAVITY, 0] },
    { axis: 'y' as const, up: [-GRAVITY, 0, 0] },
  ])('tips the base 90° about $axis in about 0.4 s, with an impact spike, then lies still', ({ axis, up }) => {
    const plant = new Plant(arm, { seed: 5 });
    const r = newSensorReading(N);
    plant.injectFault({ kind: 'fall', axis });
    expect(plant.faultBits().faults).toBe(0); // a motion, not a device fault
    let peak = 0;
    let peakAt = 0;
    let fastest = 0;
    let earlyAngle = 0;
    for (let k = 0; k < 600; k++) {
      plant.step(0.001);
      plant.sense(r);
      fastest = Math.max(fastest, Math.hypot(...plant.truth.baseAngVel));
      const g = Math.hypot(...r.accel);
      if (g > peak) {
        peak = g;
        peakAt = plant.truth.timeS;
      }
      if (plant.truth.timeS <= FALL_DURATION_S / 2) earlyAngle = quatAngle(plant.truth.baseQuat);
    }
    // Toppling accelerates: a quarter of the angle at half the time.
    expect(earlyAngle).toBeCloseTo(Math.PI / 8, 2);
    expect(quatAngle(plant.truth.baseQuat)).toBeCloseTo(Math.PI / 2, 9);
    expect(Array.from(plant.truth.baseAngVel)).toEqual([0, 0, 0]);
    expect(fastest).toBeGreaterThan(5); // rad/s at impact
    expect(peak).toBeGreaterThan(5 * GRAVITY);
    expect(peakAt).toBeGreaterThan(FALL_DURATION_S);
    expect(peakAt).toBeLessThan(FALL_DURATION_S + 0.05);
    // Lying on its side, the accelerometer reads gravity along the new up axis.
    const scale = arm.imu?.accelScale ?? 1;
    up.forEach((u, i) => expect(Math.abs((r.accel[i] as number) - u * scale)).toBeLessThan(0.15));
  });

  it('clearFaults() does not stand a fallen robot up', () => {
    const plant = new Plant(quad);
    plant.injectFault({ kind: 'fall' });
    plant.step(1);
    plant.clearFaults();
    plant.step(0.1);
    expect(quatAngle(plant.truth.baseQuat)).toBeCloseTo(Math.PI / 2, 9);
  });
});
