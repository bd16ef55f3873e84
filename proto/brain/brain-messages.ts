/**
 * TypeScript shapes of brain.proto's messages as grpc-js delivers and accepts them under
 * BRAIN_LOADER_OPTIONS (brain-proto.ts): camelCase fields, 64-bit integers as numbers, enums as
 * names, bytes as Buffer. On receipt every scalar is present (defaults filled in); a oneof's
 * member is present only when set, and `msg` names it. When sending, omitted fields take their
 * proto3 defaults, so outgoing shapes are Partial where that is convenient.
 */

export const BRAIN_PROTOCOL_MAJOR = 1;
/** The largest compressed camera frame an observation may carry. */
export const MAX_IMAGE_BYTES = 1024 * 1024;

export interface Joint {
  name: string;
  positionMin: number;
  positionMax: number;
  velocityMax: number;
  /** rad/s²; 0 or absent: not announced (a brain then plans by velocity alone). */
  accelerationMax?: number;
}

export interface Pose {
  positions: number[];
}

export interface Hello {
  robotId: string;
  protocolMajor: number;
  softwareVersion: string;
  profileId: string;
  latentSpace: string;
  latentDim: number;
  stateDim: number;
  actionDim: number;
  horizon: number;
  joints: Joint[];
  poses: Record<string, Pose>;
  cameraIds: string[];
  /** Control steps per second of the decoder's chunk; 0 = unknown (the brain assumes its default). */
  controlHz: number;
}

export interface CameraFrame {
  cameraId: string;
  encoding: string;
  data: Buffer;
  width: number;
  height: number;
  captureTimeUs: number;
}

export interface Observation {
  seq: number;
  captureTimeUs: number;
  sendTimeUs: number;
  state: number[];
  frames: CameraFrame[];
  taskId: string;
}

export interface Welcome {
  sessionId: string;
  backend: string;
  protocolMajor: number;
  taskId: string;
  instruction: string;
}

export interface Plan {
  planId: number;
  observationSeq: number;
  latent: number[];
  createdTimeUs: number;
  validForMs: number;
  observationReceivedTimeUs: number;
  taskId: string;
}

export interface TaskChange {
  taskId: string;
  instruction: string;
}

export const ERROR_CODES = [
  'CODE_UNSPECIFIED', 'UNKNOWN_ROBOT', 'IDENTITY_MISMATCH', 'INCOMPATIBLE', 'BAD_OBSERVATION',
  'BACKEND_FAILED', 'BACKEND_TIMEOUT', 'OVERLOADED', 'BAD_INSTRUCTION',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface BrainError {
  code: ErrorCode;
  message: string;
  observationSeq: number;
}

/** EdgeMessage: exactly one of hello / observation. */
export type EdgeMessage =
  | { msg: 'hello'; hello: Hello }
  | { msg: 'observation'; observation: Observation };

/** BrainMessage: exactly one of welcome / plan / task / error. */
export type BrainMessage =
  | { msg: 'welcome'; welcome: Welcome }
  | { msg: 'plan'; plan: Plan }
  | { msg: 'task'; task: TaskChange }
  | { msg: 'error'; error: BrainError };

export interface SetTaskRequest { robotId: string; instruction: string }
export interface SetTaskResponse { taskId: string }
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ListSessionsRequest {}
export interface SessionInfo {
  robotId: string;
  sessionId: string;
  profileId: string;
  taskId: string;
  instruction: string;
  observations: number;
  plans: number;
  errors: number;
  connectedSinceUs: number;
}
export interface ListSessionsResponse { sessions: SessionInfo[] }
