/** Public API of edge/estimation: the state estimator, its snapshot and the flag bits. */
export { StateEstimator, type EstimatorInput } from './state-estimator.js';
export type { SensorFaultEvent, StateEstimatorEvents, StateEstimatorOptions, TiltEvent } from './estimator-options.js';
export { Detected, detectedName, IMU_DETECTED, JOINT_DETECTED, Valid, type DetectedName } from './estimation-flags.js';
export { newObservation, type Observation } from './observation.js';
export { ObservationBuffer, observationBytes } from './observation-buffer.js';
export { DEFAULT_MAHONY, MahonyFilter, type MahonyOptions } from './mahony-filter.js';
export { JointEstimator, type JointEstimatorOptions, type JointOutputs } from './joint-estimator.js';
export { quatAngleBetween, tiltOf } from './quat-math.js';
