import { describe, expect, it } from 'vitest';
import { COAST_FRICTION_PER_S, getProfile, newSensorReading, Plant, radToCounts, type PlantMode } from './index.js';

const arm = getProfile('arm6-gripper');
const N = arm.joints.length;
const zeros = new Float64Array(N);

function command(plant: Plant, mode: PlantMode, position: ArrayLike<number> = zeros, velocity: ArrayLike<number> = zeros, current: ArrayLike<number> = zeros): void {
  plant.setCommand(mode, position, velocity, current);
}

/** Runs `seconds` in steps of `dt`, calling `each` after every step. */
function run(plant: Plant, seconds: number, dt = 0.001, each?: () => void): void {
  const steps = Math.round(seconds / dt);
  for (let k = 0; k < steps; k++) {
    plant.step(dt);
    each?.();
  }
}

describe('position mode', () => {
  it('settles on a step target without exceeding velocity, acceleration or current limits', () => {
    const plant = new Plant(arm);
    const target = Float64Array.from([1.5, -1, 2, 0.5, -1.5, 3, 0.6]);
    command(plant, 'position', target);
    const lastQd = new Float64Array(N);
    const overshoot = new Float64Array(N);
    run(plant, 3, 0.001, () => {
      arm.joints.forEach((j, i) => {
        const qd = plant.truth.qd[i] as number;
        expect(Math.abs(qd)).toBeLessThanOrEqual(j.limits.velocityMax);
        expect(Math.abs(plant.truth.current[i] as number)).toBeLessThanOrEqual(j.limits.currentMax + 1e-9);
        expect(Math.abs(qd - (lastQd[i] as number)) / 0.001).toBeLessThanOrEqual(j.limits.accelerationMax + 1e-6);
        lastQd[i] = qd;
        const t = target[i] as number;
        const past = Math.sign(t) * ((plant.truth.q[i] as number) - t);
        overshoot[i] = Math.max(overshoot[i] as number, past);
      });
    });
    // The drive brakes in time: big steps hardly overshoot.
    expect(Math.max(...overshoot)).toBeLessThan(0.01);
    arm.joints.forEach((_, i) => {
      expect(Math.abs((plant.truth.q[i] as number) - (target[i] as number))).toBeLessThan(1e-3);
      expect(Math.abs(plant.truth.qd[i] as number)).toBeLessThan(1e-2);
    });
  });

  it("follows the profile's second-order response (ωn, ζ) for a small step", () => {
    const plant = new Plant(arm);
    const j = arm.joints[0];
    const step = 0.002; // small enough for no limit to bind
    command(plant, 'position', [step, 0, 0, 0, 0, 0, 0]);
    const wn = 2 * Math.PI * (j?.servo.naturalFrequencyHz ?? NaN);
    const zeta = j?.servo.dampingRatio ?? NaN;
    const wd = wn * Math.sqrt(1 - zeta * zeta);
    for (let k = 1; k <= 200; k++) {
      plant.step(0.0005);
      const t = k * 0.0005;
      const expected = step * (1 - Math.exp(-zeta * wn * t) * (Math.cos(wd * t) + (zeta / Math.sqrt(1 - zeta * zeta)) * Math.sin(wd * t)));
      expect(Math.abs((plant.truth.q[0] as number) - expected)).toBeLessThan(0.03 * step);
    }
  });

  it('reaches the velocity limit on a long move (the limit binds, and holds)', () => {
    const plant = new Plant(arm);
    command(plant, 'position', [3, 0, 0, 0, 0, 0, 0]);
    let fastest = 0;
    run(plant, 2, 0.001, () => {
      fastest = Math.max(fastest, Math.abs(plant.truth.qd[0] as number));
    });
    expect(fastest).toBeLessThanOrEqual(arm.joints[0]?.limits.velocityMax ?? NaN);
    expect(fastest).toBeCloseTo(arm.joints[0]?.limits.velocityMax ?? NaN, 3);
  });

  it('gives nearly the same trajectory with one big step as with many small ones (sub-stepping)', () => {
    const fine = new Plant(arm);
    const coarse = new Plant(arm);
    const target = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
    command(fine, 'position', target);
    command(coarse, 'position', target);
    run(fine, 0.2, 0.0001);
    coarse.step(0.2);
    expect(coarse.maxSubStepS).toBeLessThanOrEqual(0.001);
    for (let i = 0; i < N; i++) {
      expect(Math.abs((coarse.truth.q[i] as number) - (fine.truth.q[i] as number))).toBeLessThan(5e-3);
    }
    expect(coarse.truth.timeS).toBeCloseTo(0.2, 12);
  });

  it('clamps targets beyond the limits to the limits', () => {
    const plant = new Plant(arm);
    command(plant, 'position', [10, -10, 0, 0, 0, 0, 5]);
    run(plant, 4);
    expect(plant.truth.q[0]).toBeCloseTo(arm.joints[0]?.limits.positionMax ?? NaN, 3);
    expect(plant.truth.q[1]).toBeCloseTo(arm.joints[1]?.limits.positionMin ?? NaN, 3);
    expect(plant.truth.q[6]).toBeCloseTo(arm.joints[6]?.limits.positionMax ?? NaN, 3);
  });
});

describe('hard stops', () => {
  it('stop a joint driven into them, with its velocity zeroed, while the motor keeps pushing', () => {
    const plant = new Plant(arm);
    const push = new Float64Array(N);
    push[2] = 5; // A, towards positive
    push[3] = -4; // the full current, towards negative
    command(plant, 'current', zeros, zeros, push);
    run(plant, 3, 0.001, () => {
      arm.joints.forEach((j, i) => {
        const q = plant.truth.q[i] as number;
        expect(q).toBeGreaterThanOrEqual(j.limits.positionMin);
        expect(q).toBeLessThanOrEqual(j.limits.positionMax);
      });
    });
    expect(plant.truth.q[2]).toBe(arm.joints[2]?.limits.positionMax);
    expect(plant.truth.qd[2]).toBe(0);
    expect(plant.truth.q[3]).toBe(arm.joints[3]?.limits.positionMin);
    expect(plant.truth.qd[3]).toBe(0);
    expect(plant.truth.current[3]).toBe(-4);
  });

  it('end a velocity command at the limit', () => {
    const plant = new Plant(arm);
    const v = new Float64Array(N);
    v[0] = 2;
    command(plant, 'velocity', zeros, v);
    run(plant, 1);
    expect(plant.truth.qd[0]).toBeCloseTo(2, 3);
    run(plant, 3);
    expect(plant.truth.q[0]).toBeCloseTo(arm.joints[0]?.limits.positionMax ?? NaN, 4);
    expect(Math.abs(plant.truth.qd[0] as number)).toBeLessThan(1e-3);
  });
});

describe('hold and disable', () => {
  it("'hold' keeps the angles of the moment it was entered, even when re-sent", () => {
    const plant = new Plant(arm);
    command(plant, 'position', [1, 1, 1, 1, 1, 1, 0.5]);
    run(plant, 0.3);
    command(plant, 'hold');
    const held = Float64Array.from(plant.truth.q);
    run(plant, 1, 0.001, () => command(plant, 'hold'));
    for (let i = 0; i < N; i++) {
      // It brakes from speed and comes back: held within a few hundredths at the end.
      expect(Math.abs((plant.truth.q[i] as number) - (held[i] as number))).toBeLessThan(1e-3);
    }
  });

  it("'disable' lets joints coast to rest with friction and draws no current", () => {
    const plant = new Plant(arm);
    command(plant, 'velocity', zeros, [1, 0, 0, 0, 0, 0, 0]);
    run(plant, 0.5);
    command(plant, 'disable');
    const v0 = plant.truth.qd[0] as number;
    run(plant, 0.2);
    expect(plant.truth.current.every((a) => a === 0)).toBe(true);
    expect(plant.truth.qd[0]).toBeCloseTo(v0 * Math.exp(-COAST_FRICTION_PER_S * 0.2), 2);
    run(plant, 3);
    expect(Math.abs(plant.truth.qd[0] as number)).toBeLessThan(1e-4);
  });

  it('starts disabled, at the home pose unless told otherwise', () => {
    expect(new Plant(arm).mode).toBe('disable');
    expect(Array.from(new Plant(arm).truth.q)).toEqual(arm.poses['home']);
    const ready = arm.poses['ready'] ?? [];
    expect(Array.from(new Plant(arm, { initialPose: ready }).truth.q)).toEqual(ready);
    expect(() => new Plant(arm, { initialPose: [0, 0] })).toThrow(RangeError);
    expect(() => new Plant(arm, { initialPose: [0, 0, 0, 0, 0, 0, 2] })).toThrow(/initialPose\[6\] = 2 is outside/);
  });
});

describe('commands and sensing', () => {
  it('refuses non-finite targets and wrong lengths', () => {
    const plant = new Plant(arm);
    expect(() => command(plant, 'position', [0, 0, NaN, 0, 0, 0, 0])).toThrow('position[2] must be finite');
    expect(() => command(plant, 'velocity', zeros, [1, 2])).toThrow('velocity has 2 values, expected 7');
    expect(() => command(plant, 'disable', [], [], [])).not.toThrow();
    expect(() => plant.step(-1)).toThrow(RangeError);
  });

  it('reports encoder counts quantised from the true angle, and velocity and current in wire units', () => {
    const quad = getProfile('quadruped12');
    const plant = new Plant(quad, { jointNoise: { velocityRadPerSec: 0, currentA: 0 } });
    command(plant, 'position', quad.poses['lie'] ?? [], new Float64Array(12), new Float64Array(12));
    const reading = newSensorReading(12);
    run(plant, 0.05);
    plant.sense(reading);
    quad.joints.forEach((j, i) => {
      expect(reading.encoderCounts[i]).toBe(radToCounts(j, plant.truth.q[i] as number));
      const cps = (j.encoder.direction * (plant.truth.qd[i] as number) * j.encoder.countsPerRev * j.encoder.gearRatio) / (2 * Math.PI);
      expect(reading.velocityCps[i]).toBeCloseTo(cps, -1);
      expect(reading.currentA[i]).toBeCloseTo(plant.truth.current[i] as number, 5);
    });
  });

  it('is deterministic for a seed, and the seed matters', () => {
    function trace(seed: number): number[] {
      const plant = new Plant(getProfile('quadruped12'), { seed });
      const reading = newSensorReading(12);
      const out: number[] = [];
      plant.setCommand('position', new Float64Array(12).fill(0.2), new Float64Array(12), new Float64Array(12));
      plant.setBaseAngularVelocity([0.1, -0.2, 0.3]);
      for (let k = 0; k < 200; k++) {
        plant.step(0.001);
        plant.sense(reading);
        out.push(...reading.encoderCounts, ...reading.velocityCps, ...reading.currentA, ...reading.accel, ...reading.gyro);
      }
      return out;
    }
    expect(trace(42)).toEqual(trace(42));
    expect(trace(42)).not.toEqual(trace(43));
  });
});
