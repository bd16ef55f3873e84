/**
 * The robot profile: everything the host needs to know about one robot model to turn the wire's
 * MCU-native units (encoder counts, counts/s, amperes) into joint units (rad, rad/s, Nm) and to
 * keep commands inside the hardware's limits. Profiles are data (JSON), validated by
 * `profile-schema.ts` and `profile-checks.ts`; objects handed out by the registry are deeply frozen.
 *
 * Units: angles in rad, angular rates in rad/s, accelerations in rad/s², currents in A,
 * torques in Nm, frequencies in Hz, times in ms where the field name says so.
 */

/** One joint's encoder, as the MCU reads it.
 *
 * Multi-turn (`singleTurn: false`, e.g. an incremental or multi-turn absolute encoder on the motor):
 *   rad = direction * (counts - zeroOffsetCounts) * 2π / (countsPerRev * gearRatio)
 *
 * Single-turn (`singleTurn: true`): an absolute encoder on the joint output that reports counts
 * modulo countsPerRev, always in 0..countsPerRev-1. The same formula applies to the difference
 * (counts - zeroOffsetCounts) taken modulo countsPerRev into [-countsPerRev/2, countsPerRev/2), so
 * the angle is unambiguous only within one turn centred on the zero. Invariants enforced at load:
 * gearRatio is 1, 0 <= zeroOffsetCounts < countsPerRev, and the joint limits lie inside (-π, π).
 */
export interface EncoderProfile {
  /** Counts per encoder revolution; integer > 0 (after the MCU's quadrature decoding). */
  countsPerRev: number;
  /** Encoder revolutions per joint revolution, > 0: the gear ratio when the encoder sits on the
   * motor (motor turns per joint turn); 1 when it sits on the joint output. */
  gearRatio: number;
  /** +1 when counts increase with the joint angle, -1 when the encoder is mounted the other way. */
  direction: 1 | -1;
  /** Counts reported at joint angle 0; integer. */
  zeroOffsetCounts: number;
  /** True for a single-turn absolute encoder on the joint output (counts wrap modulo countsPerRev). */
  singleTurn: boolean;
}

export interface JointLimits {
  /** rad; positionMin < positionMax. */
  positionMin: number;
  /** rad. */
  positionMax: number;
  /** rad/s, > 0: the largest speed the joint may be commanded (and the plant ever reaches). */
  velocityMax: number;
  /** rad/s², > 0. */
  accelerationMax: number;
  /** A, > 0: the drive's current limit, measured at the joint's motor. */
  currentMax: number;
}

/** Closed-loop behaviour of the joint's servo drive, used by the simulated plant. */
export interface ServoProfile {
  /** Hz, > 0: natural frequency of the position loop (second-order model). */
  naturalFrequencyHz: number;
  /** > 0: damping ratio of the position loop (1 = critically damped). */
  dampingRatio: number;
}

export type JointKind = 'revolute' | 'gripper';

export interface JointProfile {
  /** Unique within the profile. */
  name: string;
  /** 'gripper': the finger drive, its positions are rad of the drive. */
  kind: JointKind;
  encoder: EncoderProfile;
  limits: JointLimits;
  /** Nm per A at the joint (motor torque constant × gear ratio × efficiency), > 0. Current is signed
   * so that positive current drives the joint towards positive angles. */
  torqueConstant: number;
  servo: ServoProfile;
}

export interface ImuProfile {
  /** m/s², >= 0: white noise standard deviation per accelerometer sample and axis. */
  accelNoiseStd: number;
  /** rad/s, >= 0: white noise standard deviation per gyro sample and axis. */
  gyroNoiseStd: number;
  /** rad/s, sensor frame: the true constant bias of the (simulated) gyro. */
  gyroBias: [number, number, number];
  /** > 0: scale factor of the accelerometer (1 = perfect). */
  accelScale: number;
  /** Unit quaternion w,x,y,z rotating sensor-frame vectors into the base frame (normalised at load). */
  mount: [number, number, number, number];
  /** True when the MCU fuses an orientation and sends it (STATE orientation block). */
  fusedOrientation: boolean;
  /** Hz, > 0: the IMU's own sample rate; STATE repeats the latest sample between samples. */
  rateHz: number;
}

export interface SerialProfile {
  /** Bits per second, 8N1 framing (10 bit times per byte). */
  baudRate: number;
  /** STATE frames per second, 1..1000. */
  stateRateHz: number;
  /** MCU watchdog timeout in ms, 1..65535. */
  watchdogMs: number;
}

export interface FirmwareVersion {
  /** 0..255 (u8 on the wire). */
  major: number;
  /** 0..255 (u8 on the wire). */
  minor: number;
  /** 0..65535 (u16 on the wire). */
  patch: number;
}

export interface RobotProfile {
  /** Printable ASCII, 1..24 characters: the profile_id of the wire HELLO. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** 1..32 joints, in wire order. */
  joints: JointProfile[];
  /** The base IMU, or null when the robot has none. */
  imu: ImuProfile | null;
  serial: SerialProfile;
  /** Named joint-space poses (rad), one value per joint, each within its joint's limits;
   * `home` is always present. */
  poses: Record<string, number[]>;
  /** The firmware version the profile was written for. */
  firmware: FirmwareVersion;
}
