/** Options of the StateEstimator, their defaults, and the typed events it raises. */
import type { ImuProfile } from '../../hardware/index.js';
import type { DetectedName } from './estimation-flags.js';
import type { MahonyOptions } from './mahony-filter.js';

const DEG = Math.PI / 180;

export interface StateEstimatorOptions {
  /** Velocity difference window, samples (group delay W/2 samples). Default 8. */
  velocityWindow?: number;
  /** A joint reading implying more than this × velocityMax is a glitch. Default 1.5. */
  glitchFactor?: number;
  /** The Nth consecutive self-consistent suspect reading is accepted as a real jump. Default 5. */
  glitchAcceptAfter?: number;
  /** A condition clears after this many consecutive clean samples. Default 10. */
  recoverAfterSamples?: number;
  /** Orientation filter gains (see mahony-filter.ts). */
  orientation?: Partial<MahonyOptions>;
  /** Starting gyro bias estimate, rad/s, sensor frame. Default zeros. */
  initialGyroBias?: readonly [number, number, number];
  /** Tilt thresholds, rad and rad/s. Defaults 25°, 50°, 1.5 rad/s, 5°. */
  tiltWarningRad?: number;
  fallTiltRad?: number;
  fallRateRadS?: number;
  tiltHysteresisRad?: number;
  /** Saturation limits, sensor units. Defaults 16 g and 2000 °/s less 1 %. */
  accelSaturationMs2?: number;
  gyroSaturationRadS?: number;
  /** IMU_FROZEN after identical samples for this long, µs. Default max(20 ms, 10 IMU periods). */
  imuFrozenAfterUs?: number;
  /** IMU_STALE after STATE without the IMU block for this long, µs. Default 20 ms. */
  imuStaleAfterUs?: number;
  /** ORIENTATION_MISMATCH when the MCU's fused tilt and ours differ by more than this, rad, for
   * fusedMismatchAfterUs. Defaults 5° and 100 ms. */
  fusedMismatchRad?: number;
  fusedMismatchAfterUs?: number;
  /** Sample intervals are clamped to this, µs, so a gap in the stream cannot blow up an
   * integration step. Default 50 ms. */
  maxDtUs?: number;
}

export type ResolvedOptions = Required<Omit<StateEstimatorOptions, 'orientation' | 'initialGyroBias'>> & {
  orientation: Partial<MahonyOptions>;
  initialGyroBias: readonly [number, number, number];
};

export function resolveOptions(o: StateEstimatorOptions, imu: ImuProfile | null): ResolvedOptions {
  const imuPeriodUs = imu === null ? 0 : 1e6 / imu.rateHz;
  const r: ResolvedOptions = {
    velocityWindow: o.velocityWindow ?? 8,
    glitchFactor: o.glitchFactor ?? 1.5,
    glitchAcceptAfter: o.glitchAcceptAfter ?? 5,
    recoverAfterSamples: o.recoverAfterSamples ?? 10,
    orientation: o.orientation ?? {},
    initialGyroBias: o.initialGyroBias ?? [0, 0, 0],
    tiltWarningRad: o.tiltWarningRad ?? 25 * DEG,
    fallTiltRad: o.fallTiltRad ?? 50 * DEG,
    fallRateRadS: o.fallRateRadS ?? 1.5,
    tiltHysteresisRad: o.tiltHysteresisRad ?? 5 * DEG,
    accelSaturationMs2: o.accelSaturationMs2 ?? 16 * 9.80665,
    gyroSaturationRadS: o.gyroSaturationRadS ?? 0.99 * 2000 * DEG,
    imuFrozenAfterUs: o.imuFrozenAfterUs ?? Math.max(20_000, 10 * imuPeriodUs),
    imuStaleAfterUs: o.imuStaleAfterUs ?? 20_000,
    fusedMismatchRad: o.fusedMismatchRad ?? 5 * DEG,
    fusedMismatchAfterUs: o.fusedMismatchAfterUs ?? 100_000,
    maxDtUs: o.maxDtUs ?? 50_000,
  };
  if (!(r.recoverAfterSamples >= 1)) throw new RangeError(`recoverAfterSamples must be >= 1 (got ${r.recoverAfterSamples})`);
  if (!(r.maxDtUs > 0)) throw new RangeError(`maxDtUs must be > 0 (got ${r.maxDtUs})`);
  return r;
}

/** A bad-input condition raised or cleared. Objects are made only on transitions. */
export interface SensorFaultEvent {
  /** 'joint' conditions name the joint; IMU conditions have joint -1. */
  sensor: 'joint' | 'imu';
  kind: DetectedName;
  joint: number;
  hostTimeUs: number;
  /** Names the offending value, e.g. "joint 2 (elbow): position jump 0.52 rad in 1.0 ms". */
  detail: string;
}

export interface TiltEvent {
  tiltRad: number;
  tiltRateRadS: number;
  hostTimeUs: number;
}

/** Events for the safety supervisor (EventEmitter-typed). */
export type StateEstimatorEvents = {
  'tilt-warning': [ev: TiltEvent];
  fall: [ev: TiltEvent];
  /** Tilt back below warning − hysteresis: the warning, and a fall, are over. */
  'tilt-cleared': [ev: TiltEvent];
  'sensor-fault': [ev: SensorFaultEvent];
  'sensor-recovered': [ev: SensorFaultEvent];
};
