/**
 * Counters of the serial link beyond the frame decoder's own, and a log limiter so that a stream of
 * garbage is counted in full but logged at most a few times a second.
 */
import type { DecoderCounters } from '../../proto/wire/index.js';
import type { LinkState } from './link-state.js';
import type { TimeSyncStats } from './time-sync.js';

export interface LinkCounters {
  /** Times the port was (re)opened after the first open. */
  reconnects: number;
  /** Handshakes that reached READY. */
  handshakes: number;
  handshakeTimeouts: number;
  /** MCUs refused (protocol, joint count, profile id, CONFIG refused). */
  incompatible: number;
  /** Frames whose body did not fit their type. */
  bodyErrors: number;
  /** Well-formed frames carrying values that cannot be right: a STATE joint count not the
   * profile's, or a STATE with a non-finite or absurd velocity, current or IMU value, or a fused
   * orientation that is not a unit quaternion (counted once per frame; still passed on, so the
   * estimator flags it and safety holds). */
  impossibleValues: number;
  /** HELLOs received while READY: the MCU restarted. */
  restarts: number;
  /** Frames of a type the MCU must not send. */
  unexpectedTypes: number;
  /** Messages refused by the encoder (WireEncodeError): never written. */
  encodeErrors: number;
  /** Frames not written because the transport's buffer was over its limit. */
  writesDropped: number;
  framesSent: number;
  commandsSent: number;
  heartbeatsSent: number;
  /** TIME_SYNC_RESP that matched no outstanding request or gave impossible times. */
  timeSyncRejected: number;
  linkTimeouts: number;
}

export function newLinkCounters(): LinkCounters {
  return {
    reconnects: 0, restarts: 0, handshakes: 0, handshakeTimeouts: 0, incompatible: 0, bodyErrors: 0, impossibleValues: 0,
    unexpectedTypes: 0, encodeErrors: 0, writesDropped: 0, framesSent: 0, commandsSent: 0, heartbeatsSent: 0,
    timeSyncRejected: 0, linkTimeouts: 0,
  };
}

/** The line as the link sees it: its configured capacity, the pacer's backlog, bytes each way. */
export interface LineHealth {
  /** Bytes/s the wire is paced to; null when it is not paced. */
  bytesPerSecond: number | null;
  /** ms of bytes still on their way to the MCU, by the pacer's model (0 when not paced). */
  backlogMs: number;
  /** Bytes written to the line, and received from it, since the link was made. */
  txBytes: number;
  rxBytes: number;
}

export interface LinkHealth extends LinkCounters {
  state: LinkState;
  /** COMMANDs not written because the line was full (paced backlog or kernel EAGAIN), from either thread. */
  commandsShed: number;
  line: LineHealth;
  decoder: DecoderCounters;
  /** ms since the last valid frame arrived; null when none has arrived on this connection. */
  lastFrameAgeMs: number | null;
  timeSync: TimeSyncStats;
}

/**
 * Allows one log line per `intervalMs` per key and says how many were suppressed in between.
 * Keys are few and fixed (error kinds), so the map stays small.
 */
export class LogLimiter {
  private readonly last = new Map<string, { atUs: number; suppressed: number }>();
  private readonly intervalUs: number;

  constructor(intervalMs = 1000) {
    this.intervalUs = intervalMs * 1000;
  }

  /** Returns the number suppressed since the last allowed line, or -1 when this one is suppressed. */
  allow(key: string, nowUs: number): number {
    const e = this.last.get(key);
    if (!e) {
      this.last.set(key, { atUs: nowUs, suppressed: 0 });
      return 0;
    }
    if (nowUs - e.atUs < this.intervalUs) {
      e.suppressed++;
      return -1;
    }
    const n = e.suppressed;
    e.atUs = nowUs;
    e.suppressed = 0;
    return n;
  }
}
