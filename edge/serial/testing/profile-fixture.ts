/** A small robot profile for serial-link tests: three joints, one reversed, one single-turn. */
import type { JointProfile, RobotProfile } from '../../../hardware/index.js';

export function testJoint(name: string, over: Partial<JointProfile['encoder']> = {}, limits: Partial<JointProfile['limits']> = {}): JointProfile {
  return {
    name, kind: 'revolute',
    encoder: { countsPerRev: 4096, gearRatio: 10, direction: 1, zeroOffsetCounts: 0, singleTurn: false, ...over },
    limits: { positionMin: -1.5, positionMax: 1.5, velocityMax: 3, accelerationMax: 20, currentMax: 4, ...limits },
    torqueConstant: 0.5,
    servo: { naturalFrequencyHz: 10, dampingRatio: 1 },
  };
}

export function testProfile(over: Partial<RobotProfile> = {}): RobotProfile {
  return {
    id: 'test-arm3', name: 'Test arm, three joints',
    joints: [
      testJoint('shoulder'),
      testJoint('elbow', { direction: -1, zeroOffsetCounts: 1000 }),
      testJoint('wrist', { countsPerRev: 16384, gearRatio: 1, zeroOffsetCounts: 8000, singleTurn: true }, { positionMin: -2, positionMax: 2 }),
    ],
    imu: null,
    serial: { baudRate: 2_000_000, stateRateHz: 500, watchdogMs: 100 },
    poses: { home: [0, 0, 0] },
    firmware: { major: 1, minor: 2, patch: 3 },
    ...over,
  };
}
