/** One sampling of every sensor, in the wire's units; preallocated and refilled by Plant.sense(). */
export interface SensorReading {
  /** Encoder counts per joint as the MCU reports them (0..countsPerRev-1 for single-turn). */
  encoderCounts: Int32Array;
  /** Encoder rate per joint, counts/s. */
  velocityCps: Float32Array;
  /** Motor current per joint, A. */
  currentA: Float32Array;
  /** Specific force, m/s², sensor frame: at rest it reads +9.81 along the sensor's up axis.
   * NaN when the profile has no IMU. */
  accel: Float32Array;
  /** Angular rate, rad/s, sensor frame, including the gyro's bias and noise. NaN without IMU. */
  gyro: Float32Array;
  /** Fused orientation w,x,y,z rotating sensor-frame vectors into the world frame (SPEC.md's
   * "sensor to world"); NaN when the profile has no IMU or no fused orientation. */
  quat: Float32Array;
  /** SPEC 1.1 STATE.imu_sample: the IMU's samples counted from 1 (skipping 0 when it wraps past
   * 65535); it stays put between samples and while the IMU is frozen. 0 without an IMU. */
  imuSample: number;
}

export function newSensorReading(jointCount: number): SensorReading {
  return {
    encoderCounts: new Int32Array(jointCount),
    velocityCps: new Float32Array(jointCount),
    currentA: new Float32Array(jointCount),
    accel: new Float32Array(3),
    gyro: new Float32Array(3),
    quat: new Float32Array(4),
    imuSample: 0,
  };
}
