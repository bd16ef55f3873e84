/** The Hello a robot opens every session with: identity, decoder contract, joints and poses. */
import type { RobotProfile } from '../../hardware/index.js';
import { BRAIN_PROTOCOL_MAJOR, BRAIN_PROTOCOL_MINOR, type Hello } from '../../proto/brain/index.js';

/** What the robot's decoder consumes and what the brain must produce (its model's metadata). */
export interface DecoderContract {
  latentSpace: string;
  latentDim: number;
  stateDim: number;
  actionDim: number;
  horizon: number;
  /** Control steps per second of the action chunk; 0 or absent = unknown. */
  controlHz?: number;
}

export interface HelloInputs {
  robotId: string;
  softwareVersion: string;
  profile: RobotProfile;
  decoder: DecoderContract;
  cameraIds: readonly string[];
  /** Rows of one action chunk the edge keeps at its control step; default decoder.horizon. */
  maxChunkRows?: number;
}

export function buildHello(i: HelloInputs): Hello {
  const poses: Hello['poses'] = {};
  for (const [name, positions] of Object.entries(i.profile.poses)) poses[name] = { positions: [...positions] };
  return {
    robotId: i.robotId,
    protocolMajor: BRAIN_PROTOCOL_MAJOR,
    protocolMinor: BRAIN_PROTOCOL_MINOR,
    // This edge executes action chunks through the same schedule, limits and safety as decoded ones.
    acceptsActionChunks: true,
    maxChunkRows: i.maxChunkRows ?? i.decoder.horizon,
    softwareVersion: i.softwareVersion,
    profileId: i.profile.id,
    latentSpace: i.decoder.latentSpace,
    latentDim: i.decoder.latentDim,
    stateDim: i.decoder.stateDim,
    actionDim: i.decoder.actionDim,
    horizon: i.decoder.horizon,
    controlHz: i.decoder.controlHz ?? 0,
    joints: i.profile.joints.map((j) => ({
      name: j.name, positionMin: j.limits.positionMin, positionMax: j.limits.positionMax, velocityMax: j.limits.velocityMax,
      accelerationMax: j.limits.accelerationMax,
    })),
    poses,
    cameraIds: [...i.cameraIds],
  };
}
