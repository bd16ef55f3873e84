/**
 * The seam between the brain server and a model: one interface, several backends (reference,
 * ONNX, Triton), registered by name in registry.ts. The server batches observations of many
 * sessions into one `infer` call; a backend answers each request on its own (one result per
 * request, same order), so one robot's bad input or bad output never affects another's.
 */
import type { ErrorCode, Hello, Observation } from '../../proto/brain/index.js';

export interface SessionRef {
  sessionId: string;
  hello: Hello;
}

export interface Task {
  /** Empty when the robot has no task. */
  taskId: string;
  instruction: string;
}

export interface InferRequest {
  session: SessionRef;
  observation: Observation;
  task: Task;
  /** Set by the backend's prepare(): inputs made from the observation before batching. */
  prepared?: PreparedInputs;
}

export interface PreparedInputs {
  /** The decoded frame as one NCHW item of the model's "images" input; null: no frame (zeros). */
  image: Float32Array | null;
}

/** A prepared request, or why the observation cannot be used (answered to that robot only). */
export type PrepareResult =
  | { ok: true; request: InferRequest }
  | { ok: false; code: ErrorCode; reason: string; message: string };

export interface Notice {
  code: ErrorCode;
  message: string;
}

/** Joint targets in time for the robot (rad, its joint order): row h is the target for the
 * observation's capture + (h + 1)·stepUs (proto/brain ActionChunk). */
export interface ChunkOutput {
  rows: number;
  actionDim: number;
  stepUs: number;
  actions: ArrayLike<number>;
  /** The policy server's own inference time, ms, when it reports one. */
  policyMs?: number;
}

export type InferResult =
  /**
   * A latent for the session's latent space, or (backends whose planKind is 'action-chunk') an
   * action chunk with an empty latent, as on the wire (Plan.latent is empty beside an
   * action_chunk). `notice` is sent as an Error beside the plan.
   */
  | { ok: true; latent: ArrayLike<number>; chunk?: ChunkOutput; notice?: Notice }
  | { ok: false; code: ErrorCode; message: string };

/** What a backend's plans carry: latents the edge decodes, or action chunks it executes. */
export type BackendPlanKind = 'latent' | 'action-chunk';

export interface InferContext {
  /** Aborted when the deadline passes or the server shuts down; the results are then ignored. */
  signal: AbortSignal;
  /** How long the backend has, in ms, from the call. */
  timeoutMs: number;
}

export interface BrainBackend {
  /** "reference", "onnx", "triton": announced in Welcome.backend. */
  readonly name: string;
  /** Default 'latent'. An action-chunk backend serves only edges whose Hello accepts chunks. */
  readonly planKind?: BackendPlanKind;
  /** Null when this backend can produce hello's latent space and dims for this robot; else why not. */
  accepts(hello: Hello): string | null;
  /**
   * Per-request work done before batching, off the event loop (e.g. decoding a camera frame), so
   * one robot's slow or hostile input delays only that robot and never a batch. Optional; infer()
   * prepares whatever arrives unprepared itself.
   */
  prepare?(request: InferRequest): Promise<PrepareResult>;
  /** One result per request, in order. A rejection fails the whole batch (BACKEND_FAILED each). */
  infer(batch: readonly InferRequest[], ctx: InferContext): Promise<InferResult[]>;
  /**
   * The backend's own counts of work it dropped (expired before running, queue full, answers too
   * late, ...), by kind, monotonic; exported as spinal_brain_backend_dropped_total{kind}.
   */
  counters?(): Record<string, number>;
  /**
   * What the backend is doing for this session, one line for operators (e.g. a planner's
   * "subtask 2/3: <text>", or why the robot holds); reported in ListSessions and the dashboard.
   * Optional; null or absent: nothing to say.
   */
  status?(sessionId: string): string | null;
  /** The session ended: forget its state. */
  endSession(sessionId: string): void;
  close(): Promise<void>;
}
