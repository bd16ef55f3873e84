/**
 * The estimator's output: one typed snapshot of the robot's state, in joint and base-frame units,
 * stamped in host time. A reader owns its snapshot (newObservation) and refills it from an
 * ObservationBuffer at its own rate; nothing here is shared or reused behind its back.
 */

export interface Observation {
  readonly jointCount: number;
  /** STATE samples consumed by the estimator when this snapshot was published (0: none yet). */
  sampleCount: number;
  /** µs on the host clock: through the link's time sync when `synced`, else the receive time. */
  hostTimeUs: number;
  /** µs of the MCU clock (unwrapped) at which the MCU sampled this state. */
  mcuTimeUs: number;
  synced: boolean;
  /** STATE.status, STATE.faults, STATE.joint_fault_mask as the MCU sent them. */
  status: number;
  mcuFaults: number;
  jointFaultMask: number;
  /** Valid.* bits: which groups are backed by good measurements. */
  validity: number;
  /** Detected.* bits: the bad-input conditions present (latched; see FaultLatch). */
  detected: number;
  /** Bit j set: joint j's position, velocity and effort are all trusted. */
  jointValidMask: number;
  /** rad, [0, π]: angle between the base's z axis and world up. */
  tiltRad: number;
  /** rad/s: rate at which the up direction turns in the base frame. */
  tiltRateRadS: number;
  /** True from a detected fall until the base is back upright (tilt below warning − hysteresis). */
  fallen: boolean;
  /** rad, per joint. */
  readonly position: Float64Array;
  /** rad/s, per joint. */
  readonly velocity: Float64Array;
  /** Nm, per joint (NaN where the current was not finite). */
  readonly effort: Float64Array;
  /** w,x,y,z: base → world (world z up; heading relative to where the estimator started unless
   * the MCU fuses one). */
  readonly orientation: Float64Array;
  /** rad/s, base frame, gyro bias removed. */
  readonly angularRate: Float64Array;
}

export function newObservation(jointCount: number): Observation {
  return {
    jointCount,
    sampleCount: 0, hostTimeUs: 0, mcuTimeUs: 0, synced: false,
    status: 0, mcuFaults: 0, jointFaultMask: 0,
    validity: 0, detected: 0, jointValidMask: 0,
    tiltRad: 0, tiltRateRadS: 0, fallen: false,
    position: new Float64Array(jointCount),
    velocity: new Float64Array(jointCount),
    effort: new Float64Array(jointCount),
    orientation: new Float64Array([1, 0, 0, 0]),
    angularRate: new Float64Array(3),
  };
}
