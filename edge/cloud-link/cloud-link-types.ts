/** Options, typed events, counters and health of CloudLink. */
import type { RobotProfile } from '../../hardware/index.js';
import type { ErrorCode } from '../../proto/brain/index.js';
import type { CameraSource } from '../camera/camera-source.js';
import type { Clock } from '../clock.js';
import type { Observation } from '../estimation/index.js';
import type { BackoffOptions } from '../serial/backoff.js';
import type { LinkLogger } from '../serial/serial-link-types.js';
import type { ClockOffsetEstimate } from './clock-offset.js';
import type { CloudLinkState } from './cloud-link-state.js';
import type { DecoderContract } from './hello-message.js';
import type { LatencySummary } from './latency-window.js';
import type { PlanRejectReason } from './plan-validation.js';
import type { CloudTls } from './transport-security.js';

/** Where the robot's state comes from; an estimation ObservationBuffer fits as is. */
export interface StateSource {
  readonly jointCount: number;
  /** Copies the newest consistent snapshot into `out`; false when none could be read. */
  read(out: Observation): boolean;
}

export interface CloudLinkOptions {
  /** "host:port" of the brain. Plaintext (no `tls`) only to a loopback host. */
  target: string;
  tls?: CloudTls;
  robotId: string;
  profile: RobotProfile;
  decoder: DecoderContract;
  softwareVersion: string;
  /** The state vector sent is the joint positions (decoder.stateDim must equal the joint count). */
  state: StateSource;
  cameras?: readonly CameraSource[];
  /** Observations per second while ACTIVE, 5..30; default 10. */
  observationRateHz?: number;
  /** A plan answering an observation captured longer ago than this is refused; default 1000 ms. */
  maxObservationAgeMs?: number;
  /** Default systemClock. Must be the clock of the state's hostTimeUs. */
  clock?: Clock;
  /** µs added to clock.nowUs() to get the wire's Unix-epoch time; default
   * performance.timeOrigin × 1000 (right for systemClock). */
  epochOffsetUs?: number;
  /** Default DEFAULT_BACKOFF (100 ms doubling to 5 s, 20 % jitter); INCOMPATIBLE waits the maximum. */
  backoff?: BackoffOptions;
  random?: () => number;
  /** Rows of one action chunk the edge keeps (announced in Hello); default decoder.horizon. */
  maxChunkRows?: number;
  /** Time allowed for the channel to become ready (real time, the transport's); default 5000 ms. */
  connectTimeoutMs?: number;
  /** Time allowed for the Welcome after Hello (clock time); default 5000 ms. */
  helloTimeoutMs?: number;
  /** HTTP/2 keepalive ping interval; default 10 000 ms (a 5 s ping timeout drops a dead path). */
  keepaliveMs?: number;
  /** Samples for the clock offset's min-RTT filter; default 32. */
  offsetWindow?: number;
  /** Samples for the latency percentiles; default 256. */
  latencyWindow?: number;
  logger?: LinkLogger;
}

/** An action chunk as the brain sent it: row h targets captureUs + (h + 1)·stepUs, rad. */
export interface AcceptedChunk {
  rows: number;
  stepUs: number;
  /** rows × joints, row-major. */
  actions: Float32Array;
  /** The policy server it came from ("openpi", "gr00t", ...). */
  source: string;
  /** The policy server's own inference time, ms; 0 when it reports none. */
  policyMs: number;
}

/** What a plan carries: a latent for the decoder, or an action chunk executed as is. */
export type PlanKindName = 'latent' | 'action-chunk';

/** A plan that passed validation, in edge-clock terms. */
export interface AcceptedPlan {
  planId: number;
  observationSeq: number;
  kind: PlanKindName;
  /** The latent (empty for an action chunk). */
  latent: Float32Array;
  /** The action chunk; null for a latent plan. */
  chunk: AcceptedChunk | null;
  taskId: string;
  /** µs, edge clock: the answered observation's capture; the plan's actions start from it. */
  captureUs: number;
  /** µs, edge clock: capture + valid_for_ms. */
  expiresAtUs: number;
  /** µs, edge clock: receipt. */
  receivedUs: number;
  /** µs, brain clock. */
  createdTimeUs: number;
}

export interface PlanRejectedEvent {
  reason: PlanRejectReason;
  planId: number;
  observationSeq: number;
  /** Names the offending value. */
  detail: string;
}

export interface PlanExpiredEvent {
  planId: number;
  observationSeq: number;
  /** µs, edge clock. */
  expiresAtUs: number;
  /** The link's state when the plan lapsed (BACKOFF when the cloud is gone). */
  linkState: CloudLinkState;
}

export interface ObservationSentEvent {
  seq: number;
  /** µs, edge clock. */
  captureUs: number;
  sendUs: number;
  /** rad, the joint positions sent. */
  state: number[];
  taskId: string;
  /** The frames attached (new in this session), as sent; `captureUs` on the edge clock. */
  frames: { cameraId: string; encoding: string; data: Uint8Array; width: number; height: number; captureUs: number }[];
}

export interface TaskEvent {
  taskId: string;
  instruction: string;
}

/** Errors as data: what the brain said, or what the transport reported. */
export interface CloudLinkErrorEvent {
  source: 'brain' | 'transport';
  /** A brain Error code, or the gRPC status name (e.g. "UNAVAILABLE"). */
  code: string;
  message: string;
  /** The observation the error is about; 0 when none. */
  observationSeq: number;
}

export interface StateChangeEvent {
  from: CloudLinkState;
  to: CloudLinkState;
  /** Why, in words naming the cause (e.g. "stream ended: UNAVAILABLE ..."); "" for the plain path. */
  reason: string;
}

export interface WelcomeEvent {
  sessionId: string;
  backend: string;
  /** What this session's plans carry (a brain before protocol 1.1 sends latents). */
  planKind: PlanKindName;
  taskId: string;
  instruction: string;
}

export type CloudLinkEvents = {
  'state-change': [ev: StateChangeEvent];
  welcome: [ev: WelcomeEvent];
  plan: [plan: AcceptedPlan];
  'plan-rejected': [ev: PlanRejectedEvent];
  'plan-expired': [ev: PlanExpiredEvent];
  task: [ev: TaskEvent];
  /** An observation was handed to the stream (for the flight recorder); emitted only when heard. */
  'observation-sent': [ev: ObservationSentEvent];
  /** Emitted only when someone listens (an unheard 'error' would throw in EventEmitter). */
  error: [ev: CloudLinkErrorEvent];
};

export interface CloudLinkCounters {
  connectAttempts: number;
  /** Channel never became ready (refused, TLS failure, timeout). */
  connectFailures: number;
  helloTimeouts: number;
  /** Welcomes received: sessions opened. */
  sessions: number;
  /** Sessions (or handshakes) lost to a stream end or error. */
  losses: number;
  incompatible: number;
  observationsSent: number;
  /** Ticks at which an observation was due but the previous one was still being written:
   * replaced by a fresher one later, never queued. */
  observationsSuperseded: number;
  /** Ticks without a state snapshot to send. */
  observationsNoState: number;
  framesAttached: number;
  /** Frames over MAX_IMAGE_BYTES, not sent. */
  framesOversized: number;
  plansReceived: number;
  plansAccepted: number;
  plansRejected: Record<PlanRejectReason, number>;
  plansExpired: number;
  taskChanges: number;
  brainErrors: Partial<Record<ErrorCode, number>>;
  /** Brain messages that do not fit the session's state (a plan before Welcome, a second Welcome). */
  protocolViolations: number;
}

export interface CloudLinkHealth extends CloudLinkCounters {
  state: CloudLinkState;
  sessionId: string | null;
  backend: string | null;
  /** Brain clock minus edge wire clock (min-RTT filtered). */
  clockOffset: ClockOffsetEstimate;
  /** Observation send → plan receipt, edge clock. */
  roundTrip: LatencySummary;
  /** Observation capture → plan receipt: how old the state a plan answers is when it arrives. */
  planAge: LatencySummary;
  /** The current plan and the ms left of its validity (negative once lapsed); null when none. */
  currentPlan: { planId: number; remainingMs: number; kind: PlanKindName } | null;
}
