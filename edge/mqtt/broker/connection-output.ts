/**
 * What the embedded broker does to the output side of every client connection (TCP, TLS and
 * WebSocket streams alike): batch the writes of one event-loop turn, and drop a reader that has
 * stopped reading. Both were measured with `npm run bench -- broker-load` (1000 robots x 20 Hz,
 * docs/scaling.md).
 */
import type { Writable } from 'node:stream';

/**
 * Makes what is written to an idle connection during one turn of the event loop leave in one
 * write instead of one system call per MQTT packet.
 *
 * Why: aedes delivers every message from a setImmediate of its own, and mqtt-packet corks the
 * stream only until the next process.nextTick, which Node runs after every immediate. So each
 * delivered packet was a writev of its own: with one fleet-wide subscriber, writev was the largest
 * item of the broker's CPU profile (15 %). An idle stream that is written to stays corked until
 * the next check phase (setImmediate), so what is written meanwhile goes out in one writev.
 *
 * Only an idle stream (nothing buffered or in flight) is held. One that is still writing already
 * gathers what is written meanwhile and sends it as one writev when its write completes; holding
 * it too would keep new data buffered at every completion, so its length would never reach 0 and
 * 'drain' would never come (measured: the broker then dropped a healthy dashboard).
 *
 * `hold` says whether this stream's writes may wait for the next check phase now (the broker
 * answers no for a robot's connection: its few messages are commands and e-stops).
 *
 * Invariants: each hold is released exactly once (`held`); write()'s return value is the stream's
 * own; a stream that ended or was destroyed meanwhile is left alone (end() flushes by itself).
 */
export function coalesceWrites(stream: Writable, hold: () => boolean = () => true): void {
  let held = false;
  const release = (): void => {
    held = false;
    if (!stream.destroyed && stream.writableCorked > 0) stream.uncork();
  };
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]): boolean => {
    if (!held && stream.writableLength === 0 && !stream.destroyed && !stream.writableEnded && hold()) {
      held = true;
      stream.cork();
      setImmediate(release);
    }
    return write(...args);
  }) as Writable['write'];
}

/**
 * The output side of one client connection as the broker sees it: what is waiting to go out,
 * counting messages already accepted for delivery but not yet written (aedes writes each from a
 * setImmediate, so thousands can be accepted in one poll phase before the first is written).
 */
export interface ConnectionOutput {
  /** Bytes waiting: buffered in the stream or in flight, plus reserved and not yet written. */
  readonly waiting: number;
  /** Bytes the stream has handed on (to the kernel, or to the WebSocket) since it was watched. */
  readonly accepted: number;
  /** Counts `bytes` about to be written (a delivery decided now, written in a later phase). */
  reserve(bytes: number): void;
}

/** What the broker tolerates on one connection's output before it drops the reader. */
export interface OutputLimits {
  /** Data waiting this long with none of it taken: the reader stopped (0: never judged). */
  stallMs: number;
  /** More than this many bytes waiting in the stream: the reader takes less than it is sent (0: no limit). */
  maxWaitingBytes: number;
}

/** Why a reader was given up: it took nothing for `stallMs`, or its backlog passed `maxWaitingBytes`. */
export type OutputVerdict = 'stalled' | 'overflow';

/**
 * Watches `stream`'s output (call it before anything is written to it): `waiting` and
 * `accepted` (above), and `onGone` (called once) when the reader is given up:
 * - 'stalled': the stream has had data waiting for `stallMs` and handed none of it on meanwhile:
 *   a reader that stopped reading (a frozen browser tab, a dead link). A reader that is slow but
 *   moving is kept; the broker thins what it sends to one that falls behind (QoS 0 past a
 *   backlog) instead.
 * - 'overflow': more than `maxWaitingBytes` wait in the stream: a reader that moves, but slower
 *   than the QoS 1 messages sent to it, which are never thinned.
 *
 * write() always answers true to its caller. Why: aedes waits for a subscriber's 'drain' before it
 * completes a publish, and reads nothing more from the publisher until then. So one reader behind
 * on its socket held back every robot whose messages it took, and an operator's next e-stop
 * behind a robot that stopped reading (measured: on a loaded machine a paused viewer held a
 * robot's publishes until the viewer was dropped). What waits instead is bounded here: by the
 * thinning, by the stall verdict and by `maxWaitingBytes`.
 *
 * Progress is seen when a write request completes, and a request holds everything that was
 * buffered when it started: keep the backlog small (the broker's QoS 0 limit) so that a live
 * reader completes one well within `stallMs`.
 *
 * The stall verdict is taken in the check phase after the timer, never in the timer itself: a
 * write that completed while the broker's own event loop was stalled (hundreds of ms while 1000
 * robots connect) is reported in the poll phase that follows the timers, and a verdict in the
 * timer saw such a reader as stuck (measured: a healthy dashboard dropped at the start of the
 * fleet bench).
 */
export function watchOutput(stream: Writable, limits: OutputLimits, onGone: (verdict: OutputVerdict) => void): ConnectionOutput {
  const { stallMs, maxWaitingBytes } = limits;
  if (!(Number.isInteger(stallMs) && stallMs >= 0)) throw new RangeError(`stallMs=${stallMs} must be a whole number of ms >= 0`);
  if (!(Number.isInteger(maxWaitingBytes) && maxWaitingBytes >= 0)) throw new RangeError(`maxWaitingBytes=${maxWaitingBytes} must be a whole number of bytes >= 0`);
  let written = 0;
  let reserved = 0;
  let timer: NodeJS.Timeout | null = null;
  let mark = 0;
  let gone = false;
  const accepted = (): number => written - stream.writableLength;
  const disarm = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const giveUp = (verdict: OutputVerdict): void => {
    gone = true;
    disarm();
    onGone(verdict);
  };
  const arm = (): void => {
    mark = accepted();
    timer = setTimeout(() => setImmediate(verdict), stallMs);
    timer.unref();
  };
  const verdict = (): void => {
    timer = null;
    if (gone || stream.destroyed) return;
    if (stream.writableLength === 0) return;
    if (accepted() > mark) return arm();
    giveUp('stalled');
  };
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof rest[0] === 'string' ? rest[0] as BufferEncoding : 'utf8') : (chunk as Uint8Array).byteLength;
    written += bytes;
    reserved = Math.max(0, reserved - bytes);
    const ok = write(chunk, ...rest);
    if (!gone && !stream.destroyed) {
      if (maxWaitingBytes > 0 && stream.writableLength > maxWaitingBytes) giveUp('overflow');
      else if (!ok && stallMs > 0 && timer === null) arm();
    }
    return true;
  }) as Writable['write'];
  stream.on('drain', disarm);
  stream.once('close', () => { disarm(); reserved = 0; });
  return {
    get waiting() { return stream.writableLength + reserved; },
    get accepted() { return accepted(); },
    reserve(bytes: number) { reserved += bytes; },
  };
}
