/** Options and typed events of SerialLink. */
import type { AckMsg, EstopMsg, FrameErrorKind, HelloMsg, LogMsg, StateMsg } from '../../proto/wire/index.js';
import type { RobotProfile } from '../../hardware/index.js';
import type { Clock } from '../clock.js';
import type { BackoffOptions } from './backoff.js';
import type { SoftwareVersion } from './handshake.js';
import type { LinkState } from './link-state.js';
import type { SharedWire } from './shared-wire.js';
import type { TransportFactory } from './transport.js';

/** The subset of pino the link uses; a pino Logger fits. */
export interface LinkLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SerialLinkOptions {
  path: string;
  /** Default: profile.serial.baudRate. */
  baudRate?: number;
  profile: RobotProfile;
  /** Default: systemClock. */
  clock?: Clock;
  /** Default: a SerialPortTransport. */
  transportFactory?: TransportFactory;
  /** Host software version sent in HELLO. */
  software: SoftwareVersion;
  /** Time allowed for the MCU's HELLO, and then for its CONFIG ACK; default 1000 ms. */
  handshakeTimeoutMs?: number;
  /** Default DEFAULT_BACKOFF (100 ms doubling to 5 s, 20 % jitter). */
  backoff?: BackoffOptions;
  /** Uniform [0, 1) source for the backoff jitter; default Math.random. */
  random?: () => number;
  /** Longest gap between watchdog feeds (COMMAND or HEARTBEAT) in READY; default 20 ms. */
  heartbeatIntervalMs?: number;
  /** TIME_SYNC_REQ period once the estimate has converged; default 100 ms (18 bytes each way: the
   * line cost is negligible, and a dense window is what pins the drift down). */
  timeSyncIntervalMs?: number;
  /** TIME_SYNC_REQ period until it has converged; default 50 ms. */
  timeSyncFastIntervalMs?: number;
  /** MCU watchdog sent in CONFIG; default profile.serial.watchdogMs. */
  watchdogMs?: number;
  /** STATE rate asked for in CONFIG; default profile.serial.stateRateHz. */
  stateRateHz?: number;
  /** READY link declared lost after this long without a valid frame; default 3 × watchdogMs. */
  linkTimeoutMs?: number;
  /** sendReset() rejects after this long without its ACK; default 500 ms. */
  resetTimeoutMs?: number;
  /**
   * COMMAND, HEARTBEAT and TIME_SYNC are not written while the transport holds more than this many
   * unsent bytes (stale commands are worse than none; the MCU watchdog stops the robot if the line
   * stays stuck). ESTOP and RESET are always written. Default 4096.
   */
  maxBufferedBytes?: number;
  logger?: LinkLogger;
  /**
   * The send side to share with the control tick thread (it writes COMMAND and HEARTBEAT on the
   * same fd, under the same lock and sequence counter). Default: one of the link's own.
   */
  wire?: SharedWire;
  /**
   * Pace COMMANDs to the line (SharedWire.setLine): `bytesPerSecond` is what the line carries
   * (baud / 10 for a UART), null for a line without a baud limit (native USB CDC: no pacing).
   * `motionQueueUs`: the longest backlog a COMMAND may leave behind it; default two COMMAND frames'
   * time on the line, at least 2 ms. Absent: the wire is not paced (the kernel's EAGAIN is the only
   * backpressure).
   */
  line?: { bytesPerSecond: number | null; motionQueueUs?: number };
}

/** COMMANDs shed since the previous report (at most one a second while shedding goes on). */
export interface ShedEvent {
  /** COMMANDs shed since the previous event. */
  shed: number;
  /** COMMANDs shed since the link was made. */
  total: number;
  /** ms since the previous event (0 for the first): the `shed` ones happened within it. */
  windowMs: number;
}

/**
 * One STATE frame. The object and its `msg` are reused for every frame: valid only during the
 * listener call; copy what you keep.
 */
export interface StateEvent {
  msg: StateMsg;
  seq: number;
  /** MCU time of the frame, µs, unwrapped beyond 32 bits. */
  mcuTimeUs: number;
  /** Host time of the frame, µs on the link's clock: through time sync once it has converged
   * (`synced`), else the time the frame was received. */
  hostTimeUs: number;
  synced: boolean;
}

export type ProtocolErrorKind = FrameErrorKind | 'body' | 'impossible-value' | 'unexpected-type' | 'encode';

export interface ProtocolErrorEvent {
  kind: ProtocolErrorKind;
  /** Names the offending value. */
  detail: string;
}

export interface LostEvent {
  reason: string;
  /** true when the device went away (or could not be opened); false for timeouts and plain closes. */
  disconnected: boolean;
}

export type SerialLinkEvents = {
  state: [ev: StateEvent];
  /** The MCU's HELLO, once accepted (a copy). */
  hello: [hello: HelloMsg];
  ready: [];
  lost: [ev: LostEvent];
  /** The MCU sent HELLO while the link was READY: it restarted (its latch and configuration are
   * gone); the link handshakes again. For safety this is a lost MCU. */
  restarted: [ev: { deviceId: number; detail: string }];
  incompatible: [ev: { message: string }];
  /** The MCU latched a stop of its own. A malformed ESTOP is reported as category 0 (fail safe). */
  'mcu-estop': [estop: EstopMsg];
  ack: [ack: AckMsg];
  log: [log: LogMsg];
  'state-change': [ev: { from: LinkState; to: LinkState }];
  'protocol-error': [ev: ProtocolErrorEvent];
  /** COMMANDs were shed because the line was full (see SharedWire): a slow line, not a fault. */
  'commands-shed': [ev: ShedEvent];
};
