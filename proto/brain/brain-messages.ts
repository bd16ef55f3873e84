/**
 * TypeScript shapes of brain.proto's messages as grpc-js delivers and accepts them under
 * BRAIN_LOADER_OPTIONS (brain-proto.ts): camelCase fields, 64-bit integers as numbers, enums as
 * names, bytes as Buffer. On receipt every scalar is present (defaults filled in); a oneof's
 * member is present only when set, and `msg` names it. When sending, omitted fields take their
 * proto3 defaults, so outgoing shapes are Partial where that is convenient.
 */

export const BRAIN_PROTOCOL_MAJOR = 1;
/** 1: plans may carry action chunks (Hello.accepts_action_chunks, Plan.action_chunk). */
export const BRAIN_PROTOCOL_MINOR = 1;
/** The most rows / joints an action chunk may carry (a bound on what one plan can allocate). */
export const MAX_CHUNK_ROWS = 1024;
export const MAX_CHUNK_ACTION_DIM = 64;
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
  /** 0 before action chunks; 1 since. */
  protocolMinor?: number;
  /** The edge executes Plan.action_chunk (protocol 1.1); absent/false on older edges. */
  acceptsActionChunks?: boolean;
  /** Rows of one action chunk the edge keeps at its control step; 0/absent: `horizon`. */
  maxChunkRows?: number;
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

export const PLAN_KINDS = ['PLAN_KIND_LATENT', 'PLAN_KIND_ACTION_CHUNK'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

export interface Welcome {
  sessionId: string;
  backend: string;
  protocolMajor: number;
  taskId: string;
  instruction: string;
  /** Absent from a brain before 1.1 (read as 0). */
  protocolMinor?: number;
  /** Absent from a brain before 1.1 (read as PLAN_KIND_LATENT). */
  planKind?: PlanKind;
}

/** Joint targets in time: row h is the target for the answered observation's capture + (h+1)·stepUs. */
export interface ActionChunk {
  rows: number;
  actionDim: number;
  stepUs: number;
  /** rows × actionDim, row-major, rad. */
  actions: number[];
  source: string;
  policyMs: number;
}

export interface Plan {
  planId: number;
  observationSeq: number;
  latent: number[];
  createdTimeUs: number;
  validForMs: number;
  observationReceivedTimeUs: number;
  taskId: string;
  /** Set (non-null) exactly when the plan is an action chunk; null or absent otherwise. */
  actionChunk?: ActionChunk | null;
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
  /** The backend's one line on this session (BrainBackend.status); empty when it has none. */
  backendStatus?: string;
}
export interface ListSessionsResponse { sessions: SessionInfo[] }
