/** The decoder dims a robot profile implies: one action per joint (a position target), and a state
 * of the joint positions (the reference decoder's convention, models/decoder-options.ts). */
import type { RobotProfile } from '../../hardware/index.js';
import type { RobotDims } from './model-io-checks.js';

export function robotDimsFromProfile(profile: RobotProfile): RobotDims {
  return { robot: profile.id, actionDim: profile.joints.length, stateDim: profile.joints.length };
}
