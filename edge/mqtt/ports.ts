/**
 * The small interfaces the MQTT side needs from the rest of the daemon. Each is a subset of what
 * the serial link and the safety supervisor offer, so wiring is one object literal each.
 */
import type { SafetyEventBody, StateSummary, StopCategory } from '../../proto/mqtt/index.js';
import type { EpisodeMarkRequest, RecorderStatus } from '../../proto/recording/channels.js';

/** The serial link's fast path (SerialLink.sendEstop fits): writes ESTOP now, no queue, no timer. */
export interface WireStop {
  sendEstop(category: number, source: number, reason: number): boolean;
}

/** The supervisor's remote e-stop input; called right AFTER the ESTOP frame went to the wire, with
 * `onWire` saying whether it did, so the supervisor records that frame instead of sending another. */
export interface EstopSink {
  remoteEstop(input: { scope: 'robot' | 'fleet'; category: StopCategory; operator?: string; malformed: boolean; onWire: boolean }): void;
}

export type ResetOutcome = { accepted: true } | { accepted: false; reason: string };

/**
 * The supervisor's reset input. It decides whether the robot is safe to reset; a plain `false`
 * is reported as a refusal without detail (the supervisor reports its own reason too).
 */
export interface ResetSink {
  reset(operator: { id: string; role: string }): ResetOutcome | boolean | Promise<ResetOutcome | boolean>;
}

export type ResumeOutcome = ResetOutcome;

/**
 * The supervisor's resume input (SafetySupervisor.resume fits): IDLE|HOLD → ACTIVE when the
 * operator is authorised, the robot safe and a fresh plan held. A plain `false` is reported as a
 * refusal without detail (the supervisor emits its own `refused` event with the reason).
 */
export interface ResumeSink {
  resume(operator: { id: string; role: string }): ResumeOutcome | boolean;
}

/**
 * The flight recorder's input for an operator's episode mark. Returns nothing when the mark is
 * taken, or the reason it is not (no episode open, recorder stopped…), which the robot reports.
 */
export interface EpisodeMarkSink {
  // void: a recorder's mark() that takes the mark simply returns (the contract the recorder implements).
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  mark(req: EpisodeMarkRequest): void | string;
}

/** The flight recorder's status for the state summary; null when there is no recorder. */
export interface RecordingStatusSource {
  status(): RecorderStatus | null;
}

/** The supervisor's own dead-man input, when it keeps the timer itself: one call per heartbeat. */
export interface HeartbeatSink {
  operatorHeartbeat(): void;
}

/** The supervisor's input for a lost remote e-stop channel (SafetySupervisor.mqttLinkLost fits). */
export interface LinkLossSink {
  mqttLinkLost(detail: string): void;
}

/** The supervisor's dead-man input: the operator heartbeat went silent. */
export interface DeadmanSink {
  deadmanExpired(input: { timeoutMs: number; lastHeartbeatAgeMs: number | null }): void;
}

/** A supervisor transition as the supervisor emits it. */
export interface SafetyTransition {
  from: string;
  to: string;
  cause: string;
  /** A name, or the supervisor's {kind, id} (published as "kind:id"). */
  source: string | { kind: string; id: string };
  /**
   * The supervisor's own time (µs on its clock). Not published: the supervisor emits synchronously,
   * so the publisher stamps the event with its wall clock and its monotonic clock at that moment,
   * each in its own field, instead of guessing which domain this number is in.
   */
  at?: number;
  detail?: string;
}

/** Where safety transitions come from (the supervisor, an EventEmitter, fits). */
export interface SafetyEventSource {
  on(event: 'transition', listener: (t: SafetyTransition) => void): unknown;
  off(event: 'transition', listener: (t: SafetyTransition) => void): unknown;
}

/** What the state summary reports; called at the telemetry rate. */
export type SummaryBody = Omit<StateSummary, 'v' | 'robot' | 'at' | 'seq' | 'fleetLatch'>;
export interface TelemetrySource {
  summary(): SummaryBody;
}

/** Publishes safety events at QoS 1 (the MQTT client's, or a recorder in tests). */
export interface EventReporter {
  report(event: SafetyEventBody): void;
}

/** The subset of pino used here. */
export interface MqttLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: MqttLogger = { debug() {}, info() {}, warn() {}, error() {} };
