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
 * own, so a full stream still tells its writer to wait for 'drain'; a stream that ended or was
 * destroyed meanwhile is left alone (end() flushes by itself).
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

/**
 * Watches `stream`'s output (call it before anything is written to it): `waiting` and
 * `accepted` (above), and `onStall` (called once) when the stream has had data waiting for
 * `stallMs` and handed none of it on meanwhile: a reader that stopped reading (a frozen browser
 * tab, a dead link). A reader that is slow but moving is kept; the broker thins what it sends to
 * one that falls behind (QoS 0 past a backlog) instead.
 *
 * Progress is seen when a write request completes, and a request holds everything that was
 * buffered when it started: keep the backlog small (the broker's QoS 0 limit) so that a live
 * reader completes one well within `stallMs`.
 *
 * The verdict is taken in the check phase after the timer, never in the timer itself: a write that
 * completed while the broker's own event loop was stalled (hundreds of ms while 1000 robots
 * connect) is reported in the poll phase that follows the timers, and a verdict in the timer saw
 * such a reader as stuck (measured: a healthy dashboard dropped at the start of the fleet bench).
 * 0 for `stallMs` never calls `onStall`.
 */
export function watchOutput(stream: Writable, stallMs: number, onStall: () => void): ConnectionOutput {
  if (!(Number.isInteger(stallMs) && stallMs >= 0)) throw new RangeError(`stallMs=${stallMs} must be a whole number of ms >= 0`);
  let written = 0;
  let reserved = 0;
  let timer: NodeJS.Timeout | null = null;
  let mark = 0;
  let stalled = false;
  const accepted = (): number => written - stream.writableLength;
  const disarm = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const arm = (): void => {
    mark = accepted();
    timer = setTimeout(() => setImmediate(verdict), stallMs);
    timer.unref();
  };
  const verdict = (): void => {
    timer = null;
    if (stalled || stream.destroyed) return;
    if (stream.writableLength === 0) return;
    if (accepted() > mark) return arm();
    stalled = true;
    onStall();
  };
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof rest[0] === 'string' ? rest[0] as BufferEncoding : 'utf8') : (chunk as Uint8Array).byteLength;
    written += bytes;
    reserved = Math.max(0, reserved - bytes);
    const ok = write(chunk, ...rest);
    if (!ok && stallMs > 0 && timer === null && !stalled) arm();
    return ok;
  }) as Writable['write'];
  stream.on('drain', disarm);
  stream.once('close', () => { disarm(); reserved = 0; });
  return {
    get waiting() { return stream.writableLength + reserved; },
    get accepted() { return accepted(); },
    reserve(bytes: number) { reserved += bytes; },
  };
}
