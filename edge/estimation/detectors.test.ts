/** Unit checks of the small pieces: fault latch, tilt/fall state machine, IMU monitor, Mahony init. */
import { expect, test } from 'vitest';
import { Detected } from './estimation-flags.js';
import { FaultLatch } from './fault-latch.js';
import { ImuMonitor } from './imu-monitor.js';
import { MahonyFilter } from './mahony-filter.js';
import { tiltOf } from './quat-math.js';
import { TiltFallDetector } from './tilt-fall-detector.js';

test('FaultLatch: raises at once, clears only after recoverAfter clean samples', () => {
  const l = new FaultLatch(1, 3);
  const seen: number[] = [];
  for (const raw of [0, 4, 0, 4, 0, 0, 0, 0]) seen.push(l.update(0, raw));
  expect(seen).toEqual([0, 4, 4, 4, 4, 4, 0, 0]);
});

test('TiltFallDetector: exact sequence of transitions with hysteresis', () => {
  const d = new TiltFallDetector({ warningRad: 0.4, fallRad: 0.8, fallRateRadS: 100, hysteresisRad: 0.1 });
  const q = (a: number): number[] => [Math.cos(a / 2), Math.sin(a / 2), 0, 0];
  const seq = [0, 0.39, 0.41, 0.35, 0.41, 0.81, 0.9, 0.31, 0.29, 0.41].map((a) => d.update(q(a), 0, 0, 0));
  expect(seq).toEqual(['none', 'none', 'warning', 'none', 'none', 'fall', 'none', 'none', 'cleared', 'warning']);
  expect(tiltOf(q(0.5))).toBeCloseTo(0.5, 12);
  expect(() => new TiltFallDetector({ warningRad: 0.5, fallRad: 0.4, fallRateRadS: 1, hysteresisRad: 0.1 })).toThrow(/fallRad >= warningRad/);
});

test('ImuMonitor: NaN, saturation, frozen and stale bits from raw samples and their times', () => {
  const m = new ImuMonitor({ accelSaturationMs2: 100, gyroSaturationRadS: 10, frozenAfterUs: 3000, staleAfterUs: 2000 });
  const a = [0, 0, 9.8], g = [0.01, 0, 0];
  expect(m.check(true, a, g, 0)).toBe(0);
  expect(m.check(true, a, g, 1000)).toBe(0);
  expect(m.check(true, a, g, 3000)).toBe(Detected.IMU_FROZEN);
  expect(m.check(true, [0, 0, 9.9], g, 4000)).toBe(0);
  expect(m.check(true, [0, Number.NaN, 9.9], g, 5000)).toBe(Detected.IMU_NAN);
  expect(m.check(true, [0, 0, 100], g, 6000)).toBe(Detected.IMU_SATURATED);
  expect(m.accelSaturated && !m.gyroSaturated).toBe(true);
  expect(m.check(true, a, [0, -10, 0], 7000)).toBe(Detected.IMU_SATURATED);
  expect(m.gyroSaturated).toBe(true);
  expect(m.check(false, a, g, 8000)).toBe(0);
  expect(m.check(false, a, g, 9000)).toBe(Detected.IMU_STALE);
});

test('MahonyFilter: initialises roll and pitch from gravity and refuses a sample that is not gravity', () => {
  const f = new MahonyFilter();
  expect(f.initFromAccel(0, 0, 30)).toBe(false);
  expect(f.initialized).toBe(false);
  f.update(1, 1, 1, 0, 0, 9.8, true, 0.001); // ignored before init
  expect(Array.from(f.q)).toEqual([1, 0, 0, 0]);
  const roll = 0.3;
  expect(f.initFromAccel(0, 9.80665 * Math.sin(roll), 9.80665 * Math.cos(roll))).toBe(true);
  expect(tiltOf(f.q)).toBeCloseTo(roll, 12);
});
