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

test('ImuMonitor: with STATE.imu_sample (SPEC 1.1) the counter, not the values, says whether a sample is new', () => {
  const m = new ImuMonitor({ accelSaturationMs2: 100, gyroSaturationRadS: 10, frozenAfterUs: 3000, staleAfterUs: 2000 });
  const a = [0, 0, 9.8], g = [0.01, 0, 0];
  // A quiet sensor repeating its values exactly, with the counter advancing: live, never frozen.
  for (let k = 0; k <= 10; k++) expect(m.check(true, a, g, k * 1000, 1 + k)).toBe(0);
  // The counter stops while values change (a stuck driver re-sending noise would not, but a
  // counter that stops means no new sample): frozen after frozenAfterUs.
  // Sample 11 arrived at 10000.
  expect(m.check(true, [0, 0, 9.7], g, 11000, 11)).toBe(0);
  expect(m.check(true, [0, 0, 9.5], g, 12999, 11)).toBe(0);
  expect(m.check(true, [0, 0, 9.4], g, 13000, 11)).toBe(Detected.IMU_FROZEN);
  expect(m.check(true, a, g, 15000, 12)).toBe(0);
  // The wrap skips 0: 65535 -> 1 is a new sample.
  expect(m.check(true, a, g, 16000, 65535)).toBe(0);
  expect(m.check(true, a, g, 20000, 1)).toBe(0);
  // A 1.0 firmware (counter 0) falls back to comparing values.
  expect(m.check(true, a, g, 21000, 0)).toBe(0);
  expect(m.check(true, a, g, 24000, 0)).toBe(Detected.IMU_FROZEN);
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
