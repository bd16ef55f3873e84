/**
 * The tick thread's side of the wire, when it owns motion (ControlLoop with `wire`): per tick it
 * runs the CommandGate (state, bad numbers, limits) on the scheduler's target and writes the
 * COMMAND itself through the SharedWire (edge/serial/shared-wire.ts), or a HEARTBEAT when no
 * command went out for a heartbeat period. It also supervises the main thread's liveness.
 *
 * The supervisor lives on the main thread; the gate here sees it through SharedSafety, a view of
 * the words the main thread keeps (SAFETY, SAFETY_GEN, HOLD_CHUNK), with three local overrides that
 * only ever stop motion sooner than the main thread would:
 * - an ESTOP decided on the wire (SharedWire.inhibited) reads as ESTOP at once;
 * - what the gate reports (chunk exhausted, bad numbers) holds locally until the main thread's
 *   state changes (SAFETY_GEN), so the gate does not report it again every tick;
 * - while the main loop is stalled (MAIN_BEAT unchanged for longer than the bound) ACTIVE reads as
 *   HOLD: the gate brings the joints to a stop within their limits and holds them, commands and
 *   heartbeats keep the MCU watchdog fed, and no chunk is executed while nobody could receive an
 *   e-stop. When the beat returns, STALL turns to ENDED with the stall's length; the hold stays
 *   until the main thread has told the supervisor (controlStalled: HOLD until resume) and cleared
 *   STALL.
 * Allocation-free per tick; messages to the main thread are made only on changes.
 */
import type { RobotProfile } from '../../hardware/index.js';
import { MsgType } from '../../proto/wire/constants.js';
import { newMessage } from '../../proto/wire/messages.js';
import type { CommandMsg } from '../../proto/wire/index.js';
import { CommandGate, type ClampEvent, type GateSupervisor } from '../safety/command-gate.js';
import { SafetyState } from '../safety/safety-state.js';
import type { SafetyCause } from '../safety/safety-types.js';
import { FrameKind, FrameWriter, SharedWire, WireWord, WriteFail, Writer } from '../serial/shared-wire.js';
import { SAFETY_BY_CODE, hostStateOf } from '../safety/host-state.js';
import { SafetySlot, SentSlot, Stall, Word, type CommandMailbox } from './command-mailbox.js';

/** What the tick thread tells the main thread about the gate (only on changes). */
export type GateReport =
  | { type: 'gate'; what: 'chunk-exhausted' | 'chunk-resumed' }
  | { type: 'bad-numbers'; detail: string; at: number }
  | { type: 'clamped'; ev: ClampEvent };

export interface TickWireOptions {
  wire: SharedArrayBuffer;
  profile: RobotProfile;
  /** µs: longest gap between watchdog feeds (COMMAND or HEARTBEAT). */
  heartbeatUs: number;
  /** µs: the main loop counts as stalled when MAIN_BEAT has not moved for longer. */
  stallBoundUs: number;
}

/** The supervisor as the gate sees it from the tick thread (see the file comment). */
class SharedSafety implements GateSupervisor {
  state: SafetyState = SafetyState.BOOT;
  holdReason: SafetyCause | null = null;
  /** The supervisor's commandEpoch and activeSinceUs, as the main thread last published them. */
  commandEpoch = 0;
  activeSinceUs = Number.NaN;
  private overrideGen = -1;
  private overrideCause: SafetyCause = 'chunk-exhausted';
  private resumedGen = -1;
  private resumedAtTick = 0;
  tick = 0;

  constructor(private readonly words: Int32Array, private readonly shared: Float64Array, private readonly wire: SharedWire, private readonly post: (m: GateReport) => void) {}

  refresh(): void {
    const w = this.words;
    const stall = Atomics.load(w, Word.STALL);
    const gen = Atomics.load(w, Word.SAFETY_GEN);
    this.commandEpoch = Atomics.load(w, Word.CMD_EPOCH);
    this.activeSinceUs = this.shared[SafetySlot.ACTIVE_SINCE_US] as number;
    let s = SAFETY_BY_CODE[Atomics.load(w, Word.SAFETY)] ?? SafetyState.FAULT;
    let cause: SafetyCause | null = s === SafetyState.HOLD && Atomics.load(w, Word.HOLD_CHUNK) === 1 ? 'chunk-exhausted' : null;
    if (this.overrideGen !== -1 && this.overrideGen !== gen) this.overrideGen = -1;
    if (this.wire.inhibited) {
      s = SafetyState.ESTOP;
      cause = null;
    } else if (stall !== Stall.NONE && (s === SafetyState.ACTIVE || s === SafetyState.HOLD)) {
      s = SafetyState.HOLD;
      cause = 'control-stalled';
    } else if (this.overrideGen === gen && s === SafetyState.ACTIVE) {
      s = SafetyState.HOLD;
      cause = this.overrideCause;
    }
    this.state = s;
    this.holdReason = s === SafetyState.HOLD ? cause : null;
  }

  chunkExhausted(): void {
    if (this.state !== SafetyState.ACTIVE) return;
    this.hold('chunk-exhausted');
    this.post({ type: 'gate', what: 'chunk-exhausted' });
  }

  badNumbers(detail: string): void {
    if (this.state !== SafetyState.ACTIVE) return;
    this.hold('bad-numbers');
    this.post({ type: 'bad-numbers', detail, at: performance.now() });
  }

  chunkResumed(): void {
    // Asked every tick while the condition holds: tell the main thread once per state change, and
    // again every 50 ticks in case its supervisor could not resume then (plan not fresh yet).
    const gen = Atomics.load(this.words, Word.SAFETY_GEN);
    if (gen === this.resumedGen && this.tick - this.resumedAtTick < 50) return;
    this.resumedGen = gen;
    this.resumedAtTick = this.tick;
    this.post({ type: 'gate', what: 'chunk-resumed' });
  }

  private hold(cause: SafetyCause): void {
    this.overrideGen = Atomics.load(this.words, Word.SAFETY_GEN);
    this.overrideCause = cause;
    this.state = SafetyState.HOLD;
    this.holdReason = cause;
  }
}

export class TickWire {
  readonly gate: CommandGate;
  private readonly wire: SharedWire;
  private readonly writer: FrameWriter;
  private readonly safety: SharedSafety;
  private readonly words: Int32Array;
  private readonly heartbeat = newMessage(MsgType.HEARTBEAT);
  private readonly heartbeatUs: number;
  private readonly stallBoundUs: number;
  private lastFeedUs = Number.NEGATIVE_INFINITY;
  private lastBeat = -1;
  private lastBeatUs = 0;
  private stalledSinceUs = 0;
  private deadlineUs = 0;
  /** Wire sequence number of the latest COMMAND written. */
  private lastCommandSeq = 0;

  constructor(o: TickWireOptions, private readonly mb: CommandMailbox, periodUs: number, private readonly nowUs: () => number, post: (m: GateReport) => void) {
    this.wire = new SharedWire(o.wire);
    this.words = mb.words;
    this.heartbeatUs = o.heartbeatUs;
    this.stallBoundUs = o.stallBoundUs;
    this.writer = new FrameWriter(this.wire, Writer.TICK, nowUs);
    this.safety = new SharedSafety(mb.words, mb.safety, this.wire, post);
    const sink = { sendCommand: (c: CommandMsg): boolean => this.writeCommand(c) };
    this.gate = new CommandGate(o.profile, sink, this.safety, { nowUs }, periodUs / 1000);
    this.gate.on('clamped', (ev) => post({ type: 'clamped', ev }));
  }

  /**
   * One tick at `t` (µs, woke for `deadlineUs`): liveness check, gate, COMMAND or HEARTBEAT.
   * `target`: null when no action covers now; `measured`: null before the first observation.
   */
  step(t: number, deadlineUs: number, target: Float64Array | null, measured: Float64Array | null, measuredAtUs?: number): void {
    this.deadlineUs = deadlineUs;
    this.superviseMain(t);
    const s = this.safety;
    s.tick++;
    s.refresh();
    if (this.gate.submit(target, measured, measuredAtUs)) {
      const ls = this.gate.lastSent;
      this.mb.writeSent(ls.count, ls.atUs, ls.mode, ls.position, ls.velocity, ls.clampFlags, ls.clampedJoints, ls.clampedCommands);
      this.mb.recordCommand(this.lastCommandSeq, ls.atUs, ls.mode, ls.position, ls.velocity);
      this.lastFeedUs = t;
      return;
    }
    // Half a tick of slack, so a heartbeat due between two ticks goes out on the earlier one.
    if (t - this.lastFeedUs < this.heartbeatUs - 500) return;
    // No heartbeat before the link is READY: the first HEARTBEAT arms the MCU's watchdog, and
    // during the handshake that would be the firmware's boot default, not the watchdog_ms the
    // CONFIG is about to set (a stall of this machine during start-up then tripped it).
    if (Atomics.load(this.wire.words, WireWord.READY) !== 1) return;
    this.heartbeat.hostState = hostStateOf(s.state);
    const r = this.writer.write(MsgType.HEARTBEAT, this.heartbeat, FrameKind.ROUTINE);
    if (r >= 0) {
      Atomics.add(this.wire.words, WireWord.TICK_FRAMES, 1);
      Atomics.add(this.wire.words, WireWord.TICK_HEARTBEATS, 1);
      this.lastFeedUs = t;
    } else if (r !== WriteFail.NO_PORT) {
      Atomics.add(this.wire.words, WireWord.TICK_DROPPED, 1);
    }
  }

  private writeCommand(c: CommandMsg): boolean {
    const r = this.writer.write(MsgType.COMMAND, c, FrameKind.MOTION);
    const w = this.wire.words;
    if (r >= 0) {
      this.lastCommandSeq = r;
      this.mb.recordWire(this.nowUs() - this.deadlineUs);
      Atomics.add(w, WireWord.TICK_FRAMES, 1);
      Atomics.add(w, WireWord.TICK_COMMANDS, 1);
      return true;
    }
    if (r === WriteFail.BUSY || r === WriteFail.BACKED_UP || r === WriteFail.ERROR) Atomics.add(w, WireWord.TICK_DROPPED, 1);
    return false;
  }

  /** MAIN_BEAT watch: STALLED after the bound; ENDED (with its length) once the beat returns. */
  private superviseMain(t: number): void {
    const w = this.words;
    const beat = Atomics.load(w, Word.MAIN_BEAT);
    const stall = Atomics.load(w, Word.STALL);
    if (beat !== this.lastBeat) {
      this.lastBeat = beat;
      this.lastBeatUs = t;
      if (stall === Stall.STALLED) {
        this.mb.sent[SentSlot.STALL_MS] = (t - this.stalledSinceUs) / 1000;
        Atomics.store(w, Word.STALL, Stall.ENDED);
      }
    } else if (stall === Stall.NONE && t - this.lastBeatUs > this.stallBoundUs && this.lastBeat !== -1) {
      this.stalledSinceUs = this.lastBeatUs;
      Atomics.store(w, Word.STALL, Stall.STALLED);
    }
  }
}
