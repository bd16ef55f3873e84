/**
 * Shared memory between the control worker (the only writer) and the thread that owns the serial
 * link (the reader): the latest tick's target under a sequence lock, a stop flag, and a ring of
 * tick lateness samples. Nothing is allocated per tick on either side.
 *
 * Int32 words: STOP (main → worker: 1 = exit), SEQ (odd while the worker writes; Atomics.notify'd
 * after each publish), LATE_IDX (lateness samples written, total, read as uint32: it wraps after
 * 2^32 ticks, 49 days at 1 kHz), OVERRUNS (ticks skipped because the worker woke later than a
 * whole period).
 * When the tick thread owns the wire (tick-wire.ts) more words go the other way: SAFETY (the
 * supervisor's state as its HEARTBEAT host_state code, main → worker), SAFETY_GEN (bumped after
 * each change of SAFETY or HOLD_CHUNK), HOLD_CHUNK (1 while the hold is for chunk-exhausted),
 * MAIN_BEAT (bumped by the main thread while its event loop runs), STALL (worker → main: 0 none,
 * 1 the main loop is stalled and the worker holds the robot, 2 the stall ended and waits for the main
 * thread to take it over; main stores 0 once the supervisor knows), WIRE_IDX (samples in the wire
 * ring), SENT_SEQ (sequence lock of the `sent` record: odd while the worker writes it), CMD_EPOCH
 * (the supervisor's commandEpoch, main → worker: the gate drops its command reference when it
 * changes).
 * Float64 slots: TICK, TIME_US (host µs of the tick), OK (1 when a chunk covered the tick),
 * LATENESS_US, OBS_TIME_US, then target[N] (rad), measured[N] (rad: the observation the tick read).
 * `sent` (Float64): the latest command the worker wrote (SentSlot header, position[N], velocity[N],
 * clampFlags[N]) and the length of the latest stall. `wire` (Float64 ring): µs from each tick's
 * deadline to its COMMAND's last byte handed to the kernel. `safety` (Float64, main → worker):
 * ACTIVE_SINCE_US, when the supervisor last became ACTIVE (main thread clock, as OBS_TIME_US), so
 * the gate seeds its limiter only from a measurement taken after a resume. The main thread writes
 * CMD_EPOCH and `safety` before bumping SAFETY_GEN.
 * `commands` (Float64 ring, worker → main): every COMMAND the worker put on the wire, one record of
 * CommandRing stride each (wire sequence number, host µs, mode, position[N] rad, velocity[N] rad/s),
 * CMD_RING_IDX counting the records written (uint32): the flight recorder drains it, so it sees every
 * COMMAND and not only the latest. The worker writes the record before it advances the count; a
 * reader that falls a whole ring behind loses the oldest records and can tell how many.
 * Invariant: SEQ is even iff no write is in progress; likewise SENT_SEQ.
 */
export const Word = {
  STOP: 0, SEQ: 1, LATE_IDX: 2, OVERRUNS: 3, REQUESTS: 4,
  SAFETY: 5, SAFETY_GEN: 6, HOLD_CHUNK: 7, MAIN_BEAT: 8, STALL: 9, WIRE_IDX: 10, SENT_SEQ: 11, CMD_EPOCH: 12, CMD_RING_IDX: 13,
} as const;
const WORDS = 16;
export const Stall = { NONE: 0, STALLED: 1, ENDED: 2 } as const;
export const SentSlot = { COUNT: 0, AT_US: 1, MODE: 2, CLAMPED_JOINTS: 3, CLAMPED_COMMANDS: 4, STALL_MS: 5 } as const;
const SENT_HEADER = 6;
export const SafetySlot = { ACTIVE_SINCE_US: 0 } as const;
const SAFETY_SLOTS = 1;
export const Slot = { TICK: 0, TIME_US: 1, OK: 2, LATENESS_US: 3, OBS_TIME_US: 4 } as const;
const HEADER = 5;

export interface MailboxMemory {
  words: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  lateness: SharedArrayBuffer;
  sent: SharedArrayBuffer;
  wire: SharedArrayBuffer;
  safety: SharedArrayBuffer;
  commands: SharedArrayBuffer;
}

/** Records in the COMMAND ring: 4 s at 1 kHz, far more than the recorder's drain period. */
export const COMMAND_RING_RECORDS = 4096;
export const CommandRing = { SEQ: 0, AT_US: 1, MODE: 2, HEADER: 3 } as const;
export function commandRingStride(jointCount: number): number {
  return CommandRing.HEADER + 2 * jointCount;
}

export class CommandMailbox {
  readonly words: Int32Array;
  readonly slots: Float64Array;
  readonly target: Float64Array;
  readonly measured: Float64Array;
  /** µs, ring of LATENESS capacity. */
  readonly lateness: Float64Array;
  /** The latest command written by the worker: SentSlot header, then position, velocity, flags. */
  readonly sent: Float64Array;
  /** µs, ring: tick deadline → COMMAND written (worker's writes). */
  readonly wire: Float64Array;
  /** Main → worker: SafetySlot values of the supervisor. */
  readonly safety: Float64Array;
  /** Worker → main: every COMMAND written (see the file comment). */
  readonly commands: Float64Array;

  static create(jointCount: number, latenessCapacity = 1 << 16): CommandMailbox {
    const mb = new CommandMailbox({
      words: new SharedArrayBuffer(WORDS * 4),
      slots: new SharedArrayBuffer((HEADER + 2 * jointCount) * 8),
      lateness: new SharedArrayBuffer(Math.max(1, latenessCapacity) * 8),
      sent: new SharedArrayBuffer((SENT_HEADER + 3 * jointCount) * 8),
      wire: new SharedArrayBuffer(Math.max(1, latenessCapacity) * 8),
      safety: new SharedArrayBuffer(SAFETY_SLOTS * 8),
      commands: new SharedArrayBuffer(COMMAND_RING_RECORDS * commandRingStride(jointCount) * 8),
    }, jointCount);
    mb.safety[SafetySlot.ACTIVE_SINCE_US] = Number.NaN; // never ACTIVE yet
    return mb;
  }

  constructor(readonly memory: MailboxMemory, readonly jointCount: number) {
    this.words = new Int32Array(memory.words);
    this.slots = new Float64Array(memory.slots);
    this.target = this.slots.subarray(HEADER, HEADER + jointCount);
    this.measured = this.slots.subarray(HEADER + jointCount, HEADER + 2 * jointCount);
    this.lateness = new Float64Array(memory.lateness);
    this.sent = new Float64Array(memory.sent);
    this.wire = new Float64Array(memory.wire);
    this.safety = new Float64Array(memory.safety);
    this.commands = new Float64Array(memory.commands);
  }

  /** Worker: appends a COMMAND it wrote to the ring (record first, then the count). */
  recordCommand(seq: number, atUs: number, mode: number, pos: ArrayLike<number>, vel: ArrayLike<number>): void {
    const n = this.jointCount;
    const stride = commandRingStride(n);
    const cap = this.commands.length / stride;
    const i = (Atomics.load(this.words, Word.CMD_RING_IDX) >>> 0) % cap;
    const c = this.commands;
    const o = i * stride;
    c[o + CommandRing.SEQ] = seq;
    c[o + CommandRing.AT_US] = atUs;
    c[o + CommandRing.MODE] = mode;
    for (let j = 0; j < n; j++) {
      c[o + CommandRing.HEADER + j] = pos[j] as number;
      c[o + CommandRing.HEADER + n + j] = vel[j] as number;
    }
    Atomics.add(this.words, Word.CMD_RING_IDX, 1);
  }

  /** COMMAND records written so far (uint32, wraps). */
  get commandsWritten(): number {
    return Atomics.load(this.words, Word.CMD_RING_IDX) >>> 0;
  }

  recordWire(us: number): void {
    const i = Atomics.add(this.words, Word.WIRE_IDX, 1) >>> 0;
    this.wire[i % this.wire.length] = us;
  }

  /** Wire samples recorded so far (the most recent `capacity` are kept). */
  wireSamples(): Float64Array {
    const n = Math.min(Atomics.load(this.words, Word.WIRE_IDX) >>> 0, this.wire.length);
    return this.wire.slice(0, n);
  }

  /** Worker: publishes the command it wrote (seqlock on SENT_SEQ). */
  writeSent(count: number, atUs: number, mode: number, pos: ArrayLike<number>, vel: ArrayLike<number>, flags: ArrayLike<number>, clampedJoints: number, clampedCommands: number): void {
    const s = this.sent;
    const n = this.jointCount;
    Atomics.add(this.words, Word.SENT_SEQ, 1);
    s[SentSlot.COUNT] = count;
    s[SentSlot.AT_US] = atUs;
    s[SentSlot.MODE] = mode;
    s[SentSlot.CLAMPED_JOINTS] = clampedJoints;
    s[SentSlot.CLAMPED_COMMANDS] = clampedCommands;
    for (let j = 0; j < n; j++) {
      s[SENT_HEADER + j] = pos[j] as number;
      s[SENT_HEADER + n + j] = vel[j] as number;
      s[SENT_HEADER + 2 * n + j] = flags[j] as number;
    }
    Atomics.add(this.words, Word.SENT_SEQ, 1);
  }

  /** Reader: copies the latest written command into `out`; false if every try overlapped a write. */
  readSent(out: { count: number; atUs: number; mode: number; position: Float64Array; velocity: Float64Array; clampFlags: Uint8Array; clampedJoints: number; clampedCommands: number }, maxTries = 16): boolean {
    const s = this.sent;
    const n = this.jointCount;
    for (let t = 0; t < maxTries; t++) {
      const s1 = Atomics.load(this.words, Word.SENT_SEQ);
      if ((s1 & 1) !== 0) continue;
      out.count = s[SentSlot.COUNT] as number;
      out.atUs = out.count > 0 ? (s[SentSlot.AT_US] as number) : Number.NaN;
      out.mode = s[SentSlot.MODE] as number;
      out.clampedJoints = s[SentSlot.CLAMPED_JOINTS] as number;
      out.clampedCommands = s[SentSlot.CLAMPED_COMMANDS] as number;
      for (let j = 0; j < n; j++) {
        out.position[j] = s[SENT_HEADER + j] as number;
        out.velocity[j] = s[SENT_HEADER + n + j] as number;
        out.clampFlags[j] = s[SENT_HEADER + 2 * n + j] as number;
      }
      if (Atomics.load(this.words, Word.SENT_SEQ) === s1) return true;
    }
    return false;
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
