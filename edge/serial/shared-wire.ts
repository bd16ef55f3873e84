/**
 * The host → MCU direction of one serial line, shared by the two threads that write to it: the
 * main thread (SerialLink: HELLO, CONFIG, TIME_SYNC, ESTOP, RESET, and HEARTBEAT as a fallback) and
 * the control tick thread (COMMAND and HEARTBEAT, at the control rate).
 *
 * Why a lock in shared memory and not one writer thread: an ESTOP must go out from the thread where
 * it arises at once, also when the other thread is stuck, busy or dead. With one writer every stop
 * would wait for that thread to wake (and with the main thread as the writer, every COMMAND waits
 * for the event loop: the hand-off this file exists to remove). So both threads encode and write
 * with fs.writeSync on the port's file descriptor, each holding the lock word for one frame:
 *
 * - no interleaving: a frame's bytes are written whole while the lock is held (a short write is
 *   finished before the lock is released);
 * - continuous sequence numbers: the next sequence number is a shared word, read and advanced under
 *   the lock by whichever thread writes (a frame that never reached the wire does not use one);
 * - nothing that moves follows a stop: ESTOPS counts the ESTOP frames put on the wire and is bumped
 *   under the lock before the ESTOP's bytes are written; a motion frame is written only while
 *   ESTOPS equals RELEASED (the count the last acknowledged RESET covered), checked under the lock.
 *   So once the main thread has decided to write an ESTOP, no COMMAND can follow it on the wire
 *   until a RESET sent after it has been acknowledged.
 *
 * Bounded waiting: the tick thread gives up a frame when the lock stays taken (it tries again next
 * tick); the main thread, for a stop, breaks a lock held longer than STEAL_AFTER_MS (a tick worker
 * terminated inside its critical section must not keep an ESTOP off the wire: a torn frame, which
 * the MCU discards by its CRC, is the lesser harm) and counts it in STOLEN.
 *
 * Without a file descriptor (an in-memory transport in tests) only the main thread writes: frames
 * go to its fallback writer, under the same lock and counters.
 *
 * Pacing to the line (setLine): the wire keeps, under the lock, when the bytes written so far will
 * have left the line (LineSlot.FREE_AT_US, from the line's µs per byte). A COMMAND that would make
 * that backlog longer than LineSlot.MOTION_QUEUE_US is not written (WriteFail.SHED, counted in
 * COMMANDS_SHED): the command that comes next carries a newer target, so under backpressure the
 * older command is the one that is shed, and no queue of stale targets builds up in the kernel or
 * the UART. Every other frame (HEARTBEAT, TIME_SYNC, ESTOP, RESET, the handshake) is written and
 * counted in the backlog: heartbeats keep the MCU watchdog fed while commands are shed, and an
 * ESTOP waits behind at most the bounded backlog. A write the kernel refuses (EAGAIN) says the line
 * is slower than its configured rate: the backlog is then taken to be full, so commands are shed
 * until it has drained by the model's clock.
 */
import { writeSync } from 'node:fs';
// Narrow imports: this file also loads in the tick worker.
import { FrameEncoder, MAX_ENCODED_FRAME } from '../../proto/wire/frame-encoder.js';
import type { MessageMap, MsgType } from '../../proto/wire/index.js';

/** HEARTBEAT host_state values (SPEC.md §3, HEARTBEAT). */
export const HostState = { UNKNOWN: 0, IDLE: 1, ACTIVE: 2, HOLD: 3, ESTOP: 4, FAULT: 5 } as const;

/** Int32 words of the shared memory. */
export const WireWord = {
  /** 0 free, else the owner (Writer.MAIN or Writer.TICK). */
  LOCK: 0,
  /** Sequence number of the next frame, 0..65535. */
  SEQ: 1,
  /** The open port's file descriptor, -1 while none is open (set and cleared under the lock). */
  FD: 2,
  /** 1 while the link is READY (motion and heartbeats may be written). */
  READY: 3,
  /** ESTOP frames decided on so far (bumped under the lock before the frame's bytes). */
  ESTOPS: 4,
  /** ESTOPS value covered by the latest RESET the MCU acknowledged. */
  RELEASED: 5,
  /** Times the main thread broke a lock held too long. */
  STOLEN: 6,
  /** Frames, COMMANDs and HEARTBEATs the tick thread wrote; frames it gave up (lock, EAGAIN, no port). */
  TICK_FRAMES: 7,
  TICK_COMMANDS: 8,
  TICK_HEARTBEATS: 9,
  TICK_DROPPED: 10,
  /** Frames cut short by a write error after their first byte (the MCU discards them by CRC). */
  TORN: 11,
  /** COMMANDs not written because the line was full (the pacer's backlog, or the kernel's EAGAIN). */
  COMMANDS_SHED: 12,
} as const;
const WORDS = 16;

/** Float64 slots after the words (read and written under the lock only). */
export const LineSlot = {
  /** µs per byte on the line; 0 while the wire is not paced. */
  BYTE_US: 0,
  /** Host µs at which the bytes written so far will have left the line (by the model). */
  FREE_AT_US: 1,
  /** Longest backlog, µs, a COMMAND may leave behind it. */
  MOTION_QUEUE_US: 2,
  /** Bytes written to the line since the wire was made. */
  TX_BYTES: 3,
} as const;
const SLOTS = 4;

/** Lock owners. */
export const Writer = { MAIN: 1, TICK: 2 } as const;

/** How a frame is treated on the way out. */
export const FrameKind = {
  /** COMMAND: only while READY and not inhibited by an ESTOP; dropped when the line is backed up. */
  MOTION: 0,
  /** HEARTBEAT, TIME_SYNC: dropped when the line is backed up. */
  ROUTINE: 1,
  /** HELLO, CONFIG, RESET: retried (bounded) when the line is backed up. */
  ESSENTIAL: 2,
  /** ESTOP: bumps ESTOPS first, retried, and may break a stuck lock. */
  STOP: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Negative results of FrameWriter.write (a non-negative result is the frame's sequence number). */
export const WriteFail = { NO_PORT: -1, BUSY: -2, INHIBITED: -3, BACKED_UP: -4, ERROR: -5, NOT_READY: -6, SHED: -7 } as const;

const STEAL_AFTER_MS = 10;
/** How long an essential frame is retried while the kernel's queue is full. */
const RETRY_MS = 50;

export class SharedWire {
  readonly words: Int32Array;
  /** LineSlot values. */
  readonly line: Float64Array;

  static create(): SharedWire {
    const w = new SharedWire(new SharedArrayBuffer(WORDS * 4 + SLOTS * 8));
    Atomics.store(w.words, WireWord.FD, -1);
    return w;
  }

  constructor(readonly memory: SharedArrayBuffer) {
    this.words = new Int32Array(memory, 0, WORDS);
    this.line = new Float64Array(memory, WORDS * 4, SLOTS);
  }

  /**
   * Paces COMMANDs to a line of `bytesPerSecond` (null: no pacing, as on native USB CDC), letting a
   * COMMAND leave at most `motionQueueUs` of backlog behind it. Under the lock.
   */
  setLine(bytesPerSecond: number | null, motionQueueUs: number): void {
    if (bytesPerSecond !== null && !(bytesPerSecond > 0)) throw new RangeError(`line rate ${bytesPerSecond} bytes/s must be positive`);
    if (!(motionQueueUs >= 0)) throw new RangeError(`motion queue ${motionQueueUs} µs must be >= 0`);
    this.lock(Writer.MAIN, STEAL_AFTER_MS, true);
    this.line[LineSlot.BYTE_US] = bytesPerSecond === null ? 0 : 1e6 / bytesPerSecond;
    this.line[LineSlot.MOTION_QUEUE_US] = motionQueueUs;
    this.unlock(Writer.MAIN);
  }

  /** µs of bytes still on their way by the model at host time `nowUs` (0 when not paced). */
  backlogUs(nowUs: number): number {
    return this.line[LineSlot.BYTE_US] === 0 ? 0 : Math.max(0, (this.line[LineSlot.FREE_AT_US] as number) - nowUs);
  }

  /** True while an ESTOP written since the latest acknowledged RESET keeps motion off the wire. */
  get inhibited(): boolean {
    return Atomics.load(this.words, WireWord.ESTOPS) !== Atomics.load(this.words, WireWord.RELEASED);
  }

  /**
   * Takes the lock for `owner`, waiting up to `maxWaitMs`; false when it stays taken. `steal`:
   * take it anyway after the wait (the main thread, for a stop).
   */
  lock(owner: number, maxWaitMs: number, steal = false): boolean {
    const w = this.words;
    if (Atomics.compareExchange(w, WireWord.LOCK, 0, owner) === 0) return true;
    const until = performance.now() + maxWaitMs;
    for (let i = 0; ; i++) {
      const cur = Atomics.load(w, WireWord.LOCK);
      if (cur === 0 && Atomics.compareExchange(w, WireWord.LOCK, 0, owner) === 0) return true;
      if (performance.now() > until) break;
      // The holder writes one frame (tens of µs): spin a little, then sleep until unlock() notifies.
      if (i > 32 && cur !== 0) Atomics.wait(w, WireWord.LOCK, cur, 0.05);
    }
    if (!steal) return false;
    Atomics.store(w, WireWord.LOCK, owner);
    Atomics.add(w, WireWord.STOLEN, 1);
    return true;
  }

  /** Releases the lock if `owner` holds it (a lock broken by the main thread stays its own). */
  unlock(owner: number): void {
    if (Atomics.compareExchange(this.words, WireWord.LOCK, owner, 0) === owner) Atomics.notify(this.words, WireWord.LOCK, 1);
  }

  /** Publishes the open port's fd (or -1), under the lock: no frame is mid-write when it changes. */
  setFd(fd: number): void {
    this.lock(Writer.MAIN, STEAL_AFTER_MS, true);
    Atomics.store(this.words, WireWord.FD, fd);
    this.unlock(Writer.MAIN);
  }

  setReady(ready: boolean): void {
    Atomics.store(this.words, WireWord.READY, ready ? 1 : 0);
  }

  /** A RESET sent when ESTOPS was `estops` was acknowledged: the stops it covers no longer inhibit. */
  release(estops: number): void {
    // Never backwards: an older RESET's ACK must not undo a newer release.
    const cur = Atomics.load(this.words, WireWord.RELEASED);
    if (((estops - cur) | 0) > 0) Atomics.store(this.words, WireWord.RELEASED, estops);
  }
}

/**
 * Encodes and writes frames for one thread. Allocation-free per frame: one encoder and one buffer,
 * reused. Not re-entrant (each thread has its own).
 */
export class FrameWriter {
  private readonly enc = new FrameEncoder();
  private readonly buf = new Uint8Array(MAX_ENCODED_FRAME);
  private readonly pause = new Int32Array(new SharedArrayBuffer(4));
  /** ESTOPS as seen under the lock during the latest write (a RESET's coverage). */
  estopsAtLastWrite = 0;
  /** errno code of the latest failed write, for the log. */
  lastError = '';

  /**
   * `fallback`: where bytes go when no fd is published (main thread only; it gets a copy).
   * `nowUs`: the frame header's time stamp.
   */
  constructor(
    private readonly wire: SharedWire,
    private readonly owner: number,
    private readonly nowUs: () => number,
    private readonly fallback: ((bytes: Uint8Array) => boolean) | null = null,
  ) {}

  /**
   * Writes one frame; returns its sequence number, or a WriteFail code. Throws WireEncodeError
   * (nothing written, no sequence number used) when the message cannot be encoded.
   */
  write<T extends MsgType>(type: T, msg: MessageMap[T], kind: FrameKind): number {
    const wire = this.wire;
    const w = wire.words;
    const isStop = kind === FrameKind.STOP;
    if (!wire.lock(this.owner, this.owner === Writer.TICK ? 0.5 : STEAL_AFTER_MS, isStop)) return WriteFail.BUSY;
    try {
      if (isStop) Atomics.add(w, WireWord.ESTOPS, 1);
      if (kind === FrameKind.MOTION) {
        if (Atomics.load(w, WireWord.READY) !== 1) return WriteFail.NOT_READY;
        if (Atomics.load(w, WireWord.ESTOPS) !== Atomics.load(w, WireWord.RELEASED)) return WriteFail.INHIBITED;
      }
      this.estopsAtLastWrite = Atomics.load(w, WireWord.ESTOPS);
      const fd = Atomics.load(w, WireWord.FD);
      if (fd < 0 && this.fallback === null) return WriteFail.NO_PORT;
      this.enc.nextSeq = Atomics.load(w, WireWord.SEQ);
      const seq = this.enc.nextSeq;
      const now = this.nowUs();
      const n = this.enc.encodeInto(type, msg, Math.floor(now) >>> 0, this.buf, 0);
      const line = wire.line;
      const byteUs = line[LineSlot.BYTE_US] as number;
      const freeAt = line[LineSlot.FREE_AT_US] as number;
      if (kind === FrameKind.MOTION && byteUs > 0 && Math.max(0, freeAt - now) + n * byteUs > (line[LineSlot.MOTION_QUEUE_US] as number)) {
        Atomics.add(w, WireWord.COMMANDS_SHED, 1);
        return WriteFail.SHED;
      }
      if (fd < 0) {
        if (!(this.fallback as (b: Uint8Array) => boolean)(this.buf.slice(0, n))) return WriteFail.NO_PORT;
      } else {
        const r = this.writeAll(fd, n, kind >= FrameKind.ESSENTIAL);
        if (r !== 0) {
          if (r === WriteFail.BACKED_UP && byteUs > 0) line[LineSlot.FREE_AT_US] = Math.max(freeAt, now + (line[LineSlot.MOTION_QUEUE_US] as number));
          if (r === WriteFail.BACKED_UP && kind === FrameKind.MOTION) Atomics.add(w, WireWord.COMMANDS_SHED, 1);
          return r;
        }
      }
      line[LineSlot.FREE_AT_US] = Math.max(freeAt, now) + n * byteUs;
      line[LineSlot.TX_BYTES] = (line[LineSlot.TX_BYTES] as number) + n;
      Atomics.store(w, WireWord.SEQ, this.enc.nextSeq);
      return seq;
    } finally {
      wire.unlock(this.owner);
    }
  }

  /** 0 when all `n` bytes went out; else a WriteFail (a frame cut short still uses its number). */
  private writeAll(fd: number, n: number, retry: boolean): number {
    let off = 0;
    let until = Number.NaN;
    while (off < n) {
      try {
        off += writeSync(fd, this.buf, off, n - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        this.lastError = code;
        const again = code === 'EAGAIN' || code === 'EWOULDBLOCK';
        // A frame already begun is finished if the line drains soon; a fresh one waits only if essential.
        if (again && (retry || off > 0)) {
          if (Number.isNaN(until)) until = performance.now() + RETRY_MS;
          if (performance.now() <= until) {
            Atomics.wait(this.pause, 0, 0, 0.1);
            continue;
          }
        }
        if (off > 0) {
          Atomics.add(this.wire.words, WireWord.TORN, 1);
          Atomics.store(this.wire.words, WireWord.SEQ, this.enc.nextSeq);
        }
        return again ? WriteFail.BACKED_UP : WriteFail.ERROR;
      }
    }
    return 0;
  }
}
