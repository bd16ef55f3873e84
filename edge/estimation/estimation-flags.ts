/**
 * Bit definitions of the observation's validity and detection masks, and of per-joint flags.
 * Invariant: a value whose group bit is clear in `validity` must not be acted on as a measurement;
 * `detected` says why (each bit raised and cleared with a 'sensor-fault' / 'sensor-recovered' event).
 */

/** Observation.validity: each group's values are backed by good measurements in this sample. */
export const Valid = {
  /** Every joint position is measured (no glitch held, no MCU joint fault). */
  JOINT_POSITION: 1 << 0,
  /** Every joint velocity is a trusted estimate. */
  JOINT_VELOCITY: 1 << 1,
  /** Every joint effort comes from a finite current. */
  JOINT_EFFORT: 1 << 2,
  /** The base orientation is tracked from live, finite, unsaturated IMU data and the cross-check passes. */
  ORIENTATION: 1 << 3,
  /** The base angular rate comes from a live, finite, unsaturated gyro. */
  ANGULAR_RATE: 1 << 4,
  /** hostTimeUs is on the host clock through time sync (else: the frame's receive time). */
  TIME_SYNCED: 1 << 5,
} as const;

/** Observation.detected: bad-input conditions present (latched with recovery, see FaultLatch). */
export const Detected = {
  /** A joint reported a position jump no motor can make; the estimate holds the last good one. */
  ENCODER_GLITCH: 1 << 0,
  /** NaN/Inf in a joint's velocity or current. */
  JOINT_NAN: 1 << 1,
  /** The MCU flagged a joint (joint_fault_mask). */
  JOINT_MCU_FAULT: 1 << 2,
  /** The MCU's velocity disagrees with the one differentiated from counts. */
  VELOCITY_MISMATCH: 1 << 3,
  /** NaN/Inf in the IMU block. */
  IMU_NAN: 1 << 4,
  /** The IMU repeats exactly the same sample for longer than its rate allows. */
  IMU_FROZEN: 1 << 5,
  /** An accelerometer or gyro axis at or beyond its saturation limit. */
  IMU_SATURATED: 1 << 6,
  /** STATE frames keep arriving without the IMU block. */
  IMU_STALE: 1 << 7,
  /** The MCU's fused orientation and the host filter disagree in tilt beyond the threshold. */
  ORIENTATION_MISMATCH: 1 << 8,
  /** The MCU's fused orientation is not a finite unit quaternion. */
  FUSED_INVALID: 1 << 9,
  /** The MCU reports an IMU fault (STATE.faults bit 5). */
  IMU_MCU_FAULT: 1 << 10,
  /** A joint velocity no motor can reach (beyond glitchFactor · velocityMax); not published. */
  VELOCITY_IMPOSSIBLE: 1 << 11,
} as const;

/**
 * Conditions that are impossible values rather than a degraded sensor: the robot must not keep
 * moving on them (the supervisor holds until they clear and an operator resumes).
 */
export const IMPOSSIBLE_DETECTED = Detected.ENCODER_GLITCH | Detected.JOINT_NAN | Detected.VELOCITY_IMPOSSIBLE | Detected.IMU_NAN | Detected.FUSED_INVALID;

/** Bits of Detected that concern joints, and those that concern the IMU. */
export const JOINT_DETECTED = Detected.ENCODER_GLITCH | Detected.JOINT_NAN | Detected.JOINT_MCU_FAULT | Detected.VELOCITY_MISMATCH | Detected.VELOCITY_IMPOSSIBLE;
export const IMU_DETECTED = Detected.IMU_NAN | Detected.IMU_FROZEN | Detected.IMU_SATURATED | Detected.IMU_STALE | Detected.ORIENTATION_MISMATCH | Detected.FUSED_INVALID | Detected.IMU_MCU_FAULT;

export type DetectedName = keyof typeof Detected;

/** The name of a single Detected bit (for events and logs). */
export function detectedName(bit: number): DetectedName {
  for (const k of Object.keys(Detected) as DetectedName[]) if (Detected[k] === bit) return k;
  throw new RangeError(`not a single Detected bit: ${bit}`);
}
