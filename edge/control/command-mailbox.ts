/**
 * Shared memory between the control worker (the only writer) and the thread that owns the serial
 * link (the reader): the latest tick's target under a sequence lock, a stop flag, and a ring of
 * tick lateness samples. Nothing is allocated per tick on either side.
 *
 * Int32 words: STOP (main → worker: 1 = exit), SEQ (odd while the worker writes; Atomics.notify'd
 * after each publish), LATE_IDX (lateness samples written, total, read as uint32: it wraps after
 * 2^32 ticks, 49 days at 1 kHz), OVERRUNS (ticks skipped because the worker woke later than a
 * whole period).
 * Float64 slots: TICK, TIME_US (host µs of the tick), OK (1 when a chunk covered the tick),
 * LATENESS_US, OBS_TIME_US, then target[N] (rad), measured[N] (rad: the observation the tick read).
 * Invariant: SEQ is even iff no write is in progress.
 */
export const Word = { STOP: 0, SEQ: 1, LATE_IDX: 2, OVERRUNS: 3, REQUESTS: 4 } as const;
const WORDS = 8;
export const Slot = { TICK: 0, TIME_US: 1, OK: 2, LATENESS_US: 3, OBS_TIME_US: 4 } as const;
const HEADER = 5;

export interface MailboxMemory {
  words: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  lateness: SharedArrayBuffer;
}

export class CommandMailbox {
  readonly words: Int32Array;
  readonly slots: Float64Array;
  readonly target: Float64Array;
  readonly measured: Float64Array;
  /** µs, ring of LATENESS capacity. */
  readonly lateness: Float64Array;

  static create(jointCount: number, latenessCapacity = 1 << 16): CommandMailbox {
    return new CommandMailbox({
      words: new SharedArrayBuffer(WORDS * 4),
      slots: new SharedArrayBuffer((HEADER + 2 * jointCount) * 8),
      lateness: new SharedArrayBuffer(Math.max(1, latenessCapacity) * 8),
    }, jointCount);
  }

  constructor(readonly memory: MailboxMemory, readonly jointCount: number) {
    this.words = new Int32Array(memory.words);
    this.slots = new Float64Array(memory.slots);
    this.target = this.slots.subarray(HEADER, HEADER + jointCount);
    this.measured = this.slots.subarray(HEADER + jointCount, HEADER + 2 * jointCount);
    this.lateness = new Float64Array(memory.lateness);
  }

  get seq(): number {
    return Atomics.load(this.words, Word.SEQ);
  }

  beginWrite(): void {
    Atomics.add(this.words, Word.SEQ, 1);
  }

  /** Ends the write and wakes a reader waiting on SEQ. */
  endWrite(): void {
    Atomics.add(this.words, Word.SEQ, 1);
    Atomics.notify(this.words, Word.SEQ);
  }

  recordLateness(us: number): void {
    // uint32: the Int32 counter turns negative after 2^31 ticks, and a negative index is no slot.
    const i = Atomics.add(this.words, Word.LATE_IDX, 1) >>> 0;
    this.lateness[i % this.lateness.length] = us;
  }

  /** Lateness samples recorded so far (the most recent `capacity` are kept). */
  latenessSamples(): Float64Array {
    const n = Math.min(Atomics.load(this.words, Word.LATE_IDX) >>> 0, this.lateness.length);
    return this.lateness.slice(0, n);
  }

  /**
   * Copies up to `out.length` of the most recent finite lateness samples (µs, newest first) into
   * `out` and returns how many; allocation-free, for a reader at telemetry rate. The worker keeps
   * writing meanwhile: a slot it overwrites during the copy yields a newer sample, and a torn or
   * non-finite value is skipped, so the window stays a set of real recent samples.
   */
  recentLateness(out: Float64Array): number {
    const total = Atomics.load(this.words, Word.LATE_IDX) >>> 0;
    const cap = this.lateness.length;
    const m = Math.min(total, cap, out.length);
    let n = 0;
    for (let k = 0; k < m; k++) {
      const v = this.lateness[(total - 1 - k) % cap] as number;
      if (Number.isFinite(v)) out[n++] = v;
    }
    return n;
  }

  /** Copies the latest published tick into the caller's arrays; false if every try overlapped a write. */
  read(target: Float64Array, measured: Float64Array, head: Float64Array, maxTries = 16): boolean {
    for (let t = 0; t < maxTries; t++) {
      const s1 = Atomics.load(this.words, Word.SEQ);
      if ((s1 & 1) !== 0) continue;
      for (let i = 0; i < HEADER; i++) head[i] = this.slots[i] as number;
      target.set(this.target);
      measured.set(this.measured);
      if (Atomics.load(this.words, Word.SEQ) === s1) return true;
    }
    return false;
  }
}

export const MAILBOX_HEADER = HEADER;
