/** Public types of the simulated plant and the STATE fault bits it reports. */

/** Servo mode of all joints, as in the wire COMMAND (DISABLE, HOLD, POSITION, VELOCITY, CURRENT). */
export type PlantMode = 'disable' | 'hold' | 'position' | 'velocity' | 'current';

/** A fault the simulation can be told to have. Joint indices are in profile order.
 * - motor: the joint goes limp (drive off, coasts with friction); reports FAULT_MOTOR.
 * - encoder-glitch: the next sense() reports the joint's counts shifted by `counts`, once (a
 *   silent corruption the host must catch: no fault bit). Wraps for a single-turn encoder.
 * - encoder-freeze: counts stay at the value of the moment of injection, velocity reads 0;
 *   reports FAULT_ENCODER (the MCU notices a stale sensor).
 * - fall: the base tips 90° about its x (default) or y axis over FALL_DURATION_S, accelerating like
 *   a toppling body, then an impact spike on the accelerometer; the base then lies still. It is a
 *   motion, not a device fault: no fault bit, and clearFaults() does not stand the robot up.
 * - imu-freeze: the IMU repeats its last sample; reports FAULT_IMU.
 * - imu-nan: the IMU reads NaN on every channel; reports FAULT_IMU. */
export type PlantFault =
  | { kind: 'motor'; joint: number }
  | { kind: 'encoder-glitch'; joint: number; counts: number }
  | { kind: 'encoder-freeze'; joint: number }
  | { kind: 'fall'; axis?: 'x' | 'y' }
  | { kind: 'imu-freeze' }
  | { kind: 'imu-nan' };

/** STATE.faults bits, mirroring proto/wire/SPEC.md (hardware imports nothing of proto). */
export const FAULT_MOTOR = 1 << 0;
export const FAULT_ENCODER = 1 << 1;
export const FAULT_OVERCURRENT = 1 << 2;
export const FAULT_OVERTEMPERATURE = 1 << 3;
export const FAULT_UNDERVOLTAGE = 1 << 4;
export const FAULT_IMU = 1 << 5;
export const FAULT_LIMIT_SWITCH = 1 << 6;

/** What STATE.faults and STATE.joint_fault_mask would carry (mask as an unsigned 32-bit value). */
export interface FaultBits {
  readonly faults: number;
  readonly jointFaultMask: number;
}

/** The simulation's ground truth (read-only view; arrays are live and updated in place). */
export interface PlantTruth {
  /** Simulated time in s since construction. */
  readonly timeS: number;
  /** Joint angles, rad. */
  readonly q: Float64Array;
  /** Joint velocities, rad/s. */
  readonly qd: Float64Array;
  /** Motor currents, A (0 when the drive is off or faulted). */
  readonly current: Float64Array;
  /** Base orientation w,x,y,z, rotating base-frame vectors into the world frame (z up). */
  readonly baseQuat: Float64Array;
  /** Base angular velocity, rad/s, base frame. */
  readonly baseAngVel: Float64Array;
  /** The gyro's true bias, rad/s, sensor frame (zeros when there is no IMU). */
  readonly gyroBias: Float64Array;
}

export interface PlantOptions {
  /** PRNG seed for all sensor noise; same seed and same calls give identical readings. Default 1. */
  seed?: number;
  /** Initial joint angles (rad), one per joint, within limits. Default: the profile's home pose. */
  initialPose?: ArrayLike<number>;
  /** Joint sensor noise standard deviations; 0 turns a noise off. */
  jointNoise?: { velocityRadPerSec?: number; currentA?: number };
}
