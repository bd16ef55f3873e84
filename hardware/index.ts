/** Public API of hardware/: robot profiles, calibration, and the simulated plant. Imports nothing
 * of the project (layering rule: hardware is a leaf). */
export type {
  EncoderProfile,
  FirmwareVersion,
  ImuProfile,
  JointKind,
  JointLimits,
  JointProfile,
  RobotProfile,
  SerialProfile,
  ServoProfile,
} from './profile-types.js';
export { ProfileError, type ProfileIssue } from './profile-error.js';
export { MAX_JOINTS, PROFILE_ID_MAX_LENGTH } from './profile-schema.js';
export { stateFrameBytes } from './profile-checks.js';
export { getProfile, listProfiles, loadProfileFile, parseProfile } from './profiles.js';
export {
  countsPerRad,
  countsToRad,
  cpsToRadPerSec,
  currentToTorque,
  radPerSecToCps,
  radToCounts,
  torqueToCurrent,
} from './calibration.js';
export { Plant } from './plant.js';
export {
  FAULT_ENCODER,
  FAULT_IMU,
  FAULT_LIMIT_SWITCH,
  FAULT_MOTOR,
  FAULT_OVERCURRENT,
  FAULT_OVERTEMPERATURE,
  FAULT_UNDERVOLTAGE,
  type FaultBits,
  type PlantFault,
  type PlantMode,
  type PlantOptions,
  type PlantTruth,
} from './plant-types.js';
export { newSensorReading, type SensorReading } from './sensor-reading.js';
export { FALL_DURATION_S, GRAVITY, IMPACT_DURATION_S, IMPACT_PEAK } from './base-motion.js';
export { COAST_FRICTION_PER_S } from './joint-dynamics.js';
export { Rng } from './rng.js';
export { quatIntegrateBodyRate, quatMultiply, quatNormalize, quatRotate, quatRotateInverse, type Quat, type Vec3 } from './quaternion.js';
