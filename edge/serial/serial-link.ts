/**
 * SerialLink owns one serial line to one MCU: opens it, handshakes (HELLO, CONFIG), keeps it alive
 * (HEARTBEAT, TIME_SYNC), reports what arrives as typed events, and reconnects with backoff when
 * the device goes away or falls silent. Line data never throws: everything wrong on the wire is
 * counted (health()) and reported ('protocol-error').
 *
 * Invariants:
 * - `transport` is non-null iff the state is OPENING, HANDSHAKE, CONFIGURING or READY.
 * - Callbacks of a transport carry the `generation` they were made for; teardown bumps it, so a
 *   late event from a closed port is ignored.
 * - Connection timers (handshake, heartbeat, time sync, link timeout) exist only while the port is
 *   open; `backoffTimer` only in BACKOFF.
 * - Every frame goes out through the SharedWire's lock (shared-wire.ts), also when this thread is
 *   the only writer: the control tick thread may write COMMAND and HEARTBEAT frames on the same fd,
 *   with the same sequence counter, and no COMMAND follows an ESTOP until an acknowledged RESET.
 *   The wire's READY word mirrors the READY state; its FD word is the open port's descriptor.
 * - A connection that reached READY ends (lost, or the MCU refused) with an ESTOP on the wire
 *   before the port closes, so the MCU stops now instead of a watchdog period later.
 * - A HELLO while READY, or a STATE without CONFIGURED while READY (the MCU restarted, possibly
 *   faster than the link timeout, its HELLO perhaps lost) is reported as 'restarted' and the
 *   handshake starts again: for safety it is a lost MCU.
 */
import { EventEmitter } from 'node:events';
import {
  AckResult, EstopReason, EstopSource, FrameDecoder, StopCategory, FrameEncoder, MsgType, PROTOCOL_MAJOR, PROTOCOL_MINOR, Role, WireEncodeError, msgTypeName, newMessage, newState, readFrame,
  StateFlag, Status, type AckMsg, type CommandMsg, type ConfigMsg, type Frame, type FrameErrorKind, type FrameSink, type HelloMsg, type MessageMap, type StateMsg,
} from '../../proto/wire/index.js';
import { radPerSecToCps, type RobotProfile } from '../../hardware/index.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Backoff, DEFAULT_BACKOFF } from './backoff.js';
import { buildConfig, buildHostHello, checkMcuHello } from './handshake.js';
import { LogLimiter, newLinkCounters, type LinkHealth } from './link-health.js';
import { LinkState, LinkStateMachine, isPortOpenState } from './link-state.js';
import { SerialPortTransport } from './serialport-transport.js';
import { commandFrameBytes } from './line-budget.js';
import { FrameKind, FrameWriter, HostState, LineSlot, SharedWire, WireWord, Writer, WriteFail } from './shared-wire.js';
import type { LinkLogger, ProtocolErrorKind, SerialLinkEvents, SerialLinkOptions, StateEvent } from './serial-link-types.js';
import { TimeSync } from './time-sync.js';
import type { Transport, TransportFactory } from './transport.js';

const S = LinkState;
const ACTIVE: readonly LinkState[] = [S.OPENING, S.HANDSHAKE, S.CONFIGURING, S.READY];
const NOT_CLOSED: readonly LinkState[] = [S.IDLE, ...ACTIVE, S.BACKOFF, S.INCOMPATIBLE];

/** A STATE velocity this many times the joint's velocityMax is no measurement (a motor overshoots
 * its limit by tens of percent, not tenfold). */
const ABSURD_VELOCITY_FACTOR = 10;

const silentLogger: LinkLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface PendingReset {
  token: number;
  /** The wire's ESTOPS count when this RESET was written: the stops its ACK releases. */
  estops: number;
  resolve: (ack: AckMsg) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

export { HostState };

const ACK_RESULT_NAMES: Record<number, string> = { 0: 'ok', 1: 'refused: unsafe', 2: 'bad value', 3: 'unsupported' };

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  readonly path: string;
  readonly baudRate: number;
  readonly profile: RobotProfile;
  private readonly clock: Clock;
  private readonly factory: TransportFactory;
  private readonly logger: LinkLogger;
  private readonly backoff: Backoff;
  private readonly handshakeTimeoutMs: number;
  private readonly heartbeatUs: number;
  private readonly timeSyncIntervalMs: number;
  private readonly timeSyncFastIntervalMs: number;
  private readonly linkTimeoutUs: number;
  private readonly resetTimeoutMs: number;
  private readonly maxBufferedBytes: number;
  private readonly jointCount: number;
  /** counts/s per joint beyond which a STATE velocity is impossible: ABSURD_VELOCITY_FACTOR × velocityMax. */
  private readonly absurdCps: Float64Array;

  private readonly sm = new LinkStateMachine((from, to) => {
    this.wire.setReady(to === S.READY);
    this.logger.info({ path: this.path, from, to }, 'serial link state');
    this.emit('state-change', { from, to });
  });
  private readonly counters = newLinkCounters();
  private readonly logLimiter = new LogLimiter(1000);
  /** The send side, shared with the control tick thread when one writes too. */
  readonly wire: SharedWire;
  private readonly writer: FrameWriter;
  /** The tick thread's frame count at the last heartbeat check: it fed the watchdog if it moved. */
  private tickFramesSeen = 0;
  /** Bytes/s the wire is paced to (null: not paced). */
  private lineBytesPerSecond: number | null = null;
  private rxBytes = 0;
  /** COMMANDS_SHED when the last 'commands-shed' event went out, and when. */
  private shedReported = 0;
  private shedReportedUs = Number.NaN;
  private readonly decoder = new FrameDecoder();
  private readonly sink: FrameSink = {
    onFrame: (f) => this.onFrame(f),
    onFrameError: (kind, detail) => this.onFrameError(kind, detail),
  };
  private readonly timeSync = new TimeSync();

  // Messages built once: the handshake is fixed by the profile.
  private readonly hostHello: HelloMsg;
  private readonly config: ConfigMsg;

  // Reused receive and send buffers: no allocation per STATE frame or per heartbeat.
  private readonly rxState = newState();
  private readonly rxHello = newMessage(MsgType.HELLO);
  private readonly rxAck = newMessage(MsgType.ACK);
  private readonly rxHeartbeat = newMessage(MsgType.HEARTBEAT);
  private readonly rxEstop = newMessage(MsgType.ESTOP);
  private readonly rxLog = newMessage(MsgType.LOG);
  private readonly rxTimeSync = newMessage(MsgType.TIME_SYNC_RESP);
  private readonly txHeartbeat = newMessage(MsgType.HEARTBEAT);
  private readonly txTimeSync = newMessage(MsgType.TIME_SYNC_REQ);
  private readonly stateEvent: StateEvent = { msg: this.rxState, seq: 0, mcuTimeUs: 0, hostTimeUs: 0, synced: false };

  private transport: Transport | null = null;
  private generation = 0;
  private opens = 0;
  private mcuHello: HelloMsg | null = null;
  /** This port's connection reached READY (reset by teardown). */
  private sessionLive = false;
  private configSeq = -1;
  private lastFrameUs = Number.NaN;
  private lastFeedUs = Number.NaN;
  private syncPending = false;
  private syncId = 0;
  private syncT0 = 0;
  private readonly pendingResets = new Map<number, PendingReset>();

  private backoffTimer: TimerHandle | null = null;
  private handshakeTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private timeSyncTimer: TimerHandle | null = null;
  private linkTimer: TimerHandle | null = null;
  /** µs: when the pending link check was due (to tell a silent MCU from a stalled event loop). */
  private linkCheckDueUs = 0;

  constructor(opts: SerialLinkOptions) {
    super();
    this.path = opts.path;
    this.profile = opts.profile;
    this.jointCount = opts.profile.joints.length;
    this.absurdCps = Float64Array.from(opts.profile.joints, (j) => Math.abs(radPerSecToCps(j, j.limits.velocityMax)) * ABSURD_VELOCITY_FACTOR);
    this.baudRate = opts.baudRate ?? opts.profile.serial.baudRate;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.factory = opts.transportFactory ?? ((path, baud) => new SerialPortTransport(path, baud, {
      onNotice: (message) => this.logger.info({ path }, message),
    }));
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, opts.random);
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 1000;
    this.heartbeatUs = (opts.heartbeatIntervalMs ?? 20) * 1000;
    this.timeSyncIntervalMs = opts.timeSyncIntervalMs ?? 100;
    this.timeSyncFastIntervalMs = opts.timeSyncFastIntervalMs ?? 50;
    const watchdogMs = opts.watchdogMs ?? opts.profile.serial.watchdogMs;
    this.linkTimeoutUs = (opts.linkTimeoutMs ?? 3 * watchdogMs) * 1000;
    this.resetTimeoutMs = opts.resetTimeoutMs ?? 500;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4096;
    this.wire = opts.wire ?? SharedWire.create();
    this.writer = new FrameWriter(this.wire, Writer.MAIN, () => this.clock.nowUs(), (bytes) => {
      const t = this.transport;
      if (!t?.isOpen) return false;
      t.write(bytes); // false means queued above its high-water mark: still on its way
      return true;
    });
    this.txHeartbeat.hostState = HostState.IDLE;
    if (opts.line !== undefined) {
      const bps = opts.line.bytesPerSecond;
      this.lineBytesPerSecond = bps;
      const frameUs = bps === null ? 0 : (commandFrameBytes(this.jointCount) * 1e6) / bps;
      this.wire.setLine(bps, opts.line.motionQueueUs ?? Math.max(2000, 2 * frameUs));
    }

    this.hostHello = buildHostHello(opts.profile, opts.software);
    const notes: string[] = [];
    const stateRateHz = opts.stateRateHz ?? opts.profile.serial.stateRateHz;
    if (!Number.isInteger(stateRateHz) || stateRateHz < 1 || stateRateHz > 65535) throw new RangeError(`serial stateRateHz=${stateRateHz} must be an integer within 1..65535 (a u16 in CONFIG)`);
    this.config = buildConfig(opts.profile, watchdogMs, stateRateHz, notes);
    for (const note of notes) this.logger.warn({ path: this.path }, note);
    // Fail at construction, not on the wire, when the profile makes a frame that cannot be encoded.
    const probe = new FrameEncoder();
    probe.encode(MsgType.HELLO, this.hostHello, 0);
    probe.encode(MsgType.CONFIG, this.config, 0);
  }

  get state(): LinkState {
    return this.sm.state;
  }

  /** The MCU's HELLO of the present connection, once accepted. */
  get mcu(): HelloMsg | null {
    return this.mcuHello;
  }

  /** host_state carried by HEARTBEAT frames (HostState). */
  setHostState(hostState: number): void {
    this.txHeartbeat.hostState = hostState;
  }

  start(): void {
    this.sm.transition([S.IDLE], S.OPENING);
    void this.openPort();
  }

  /** Closes the port and stops all timers; the link is CLOSED for good. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.sm.is(S.CLOSED)) return;
    this.clearTimer('backoffTimer');
    const closed = this.teardown('serial link stopped');
    this.sm.transition(NOT_CLOSED, S.CLOSED);
    await closed;
  }

  /**
   * Sends a COMMAND; it also feeds the MCU watchdog. Returns false, sending nothing, when the link
   * is not READY, the transport is backed up, or the message cannot be encoded (reported as a
   * 'protocol-error' of kind 'encode' and counted).
   */
  sendCommand(cmd: CommandMsg): boolean {
    if (!this.sm.is(S.READY)) return false;
    if (cmd.jointCount !== this.jointCount) {
      this.encodeError(`COMMAND.jointCount=${cmd.jointCount}, profile "${this.profile.id}" has ${this.jointCount} joints`);
      return false;
    }
    if (this.sendFrame(MsgType.COMMAND, cmd, FrameKind.MOTION) < 0) return false;
    this.counters.commandsSent++;
    this.lastFeedUs = this.clock.nowUs();
    return true;
  }

  /**
   * Sends ESTOP in any state where the port is open, before READY included, ignoring backpressure.
   * From the moment it is decided (before its bytes), no COMMAND reaches the wire, from this thread
   * or the tick thread, until a RESET sent after it is acknowledged. Fail safe: a category outside 0..2 is sent as category 0 and a bad source as HOST, both
   * reported. Returns false only when no port is open.
   */
  sendEstop(category: number, source: number, reason: number): boolean {
    if (!isPortOpenState(this.sm.state)) {
      Atomics.add(this.wire.words, WireWord.ESTOPS, 1); // decided: motion stays inhibited
      this.logger.error({ path: this.path, state: this.sm.state, category, source, reason }, 'ESTOP not sent: serial port not open');
      return false;
    }
    let cat = category;
    if (!Number.isInteger(cat) || cat < 0 || cat > 2) {
      this.encodeError(`ESTOP.category=${category} is outside 0..2; sent as category 0`);
      cat = 0;
    }
    let src = source;
    if (!Number.isInteger(src) || src < 0 || src > EstopSource.REMOTE) {
      this.encodeError(`ESTOP.source=${source} is outside 0..${EstopSource.REMOTE}; sent as HOST`);
      src = EstopSource.HOST;
    }
    const rsn = Number.isInteger(reason) ? reason & 0xffff : 0;
    return this.sendFrame(MsgType.ESTOP, { category: cat, source: src, reason: rsn }, FrameKind.STOP) >= 0;
  }

  /**
   * Sends RESET (ResetWhat bits) and resolves with the MCU's ACK, whatever its result. Rejects when
   * the link is not READY, the message cannot be encoded, the link is lost, or no ACK comes within
   * resetTimeoutMs.
   */
  sendReset(what: number, token: number): Promise<AckMsg> {
    if (!this.sm.is(S.READY)) return Promise.reject(new Error(`RESET needs a READY serial link; state is ${this.sm.state}`));
    const tok = token >>> 0;
    let seq: number;
    try {
      seq = this.writeFrame(MsgType.RESET, { what, token: tok }, FrameKind.ESSENTIAL);
    } catch (err) {
      if (err instanceof WireEncodeError) this.encodeError(err.message);
      return Promise.reject(err as Error);
    }
    if (seq < 0) return Promise.reject(new Error(`RESET what=0x${what.toString(16)} token=${tok} not written: ${this.failText(seq)}`));
    const estops = this.writer.estopsAtLastWrite;
    return new Promise<AckMsg>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pendingResets.delete(seq);
        reject(new Error(`RESET what=0x${what.toString(16)} token=${tok} (seq ${seq}) not acknowledged within ${this.resetTimeoutMs} ms`));
      }, this.resetTimeoutMs);
      this.pendingResets.set(seq, { token: tok, estops, resolve, reject, timer });
    });
  }

  health(): LinkHealth {
    const now = this.clock.nowUs();
    const w = this.wire.words;
    return {
      state: this.sm.state,
      ...this.counters,
      framesSent: this.counters.framesSent + Atomics.load(w, WireWord.TICK_FRAMES),
      commandsSent: this.counters.commandsSent + Atomics.load(w, WireWord.TICK_COMMANDS),
      heartbeatsSent: this.counters.heartbeatsSent + Atomics.load(w, WireWord.TICK_HEARTBEATS),
      writesDropped: this.counters.writesDropped + Atomics.load(w, WireWord.TICK_DROPPED),
      commandsShed: Atomics.load(w, WireWord.COMMANDS_SHED),
      line: {
        bytesPerSecond: this.lineBytesPerSecond,
        backlogMs: this.wire.backlogUs(now) / 1000,
        txBytes: this.wire.line[LineSlot.TX_BYTES] as number,
        rxBytes: this.rxBytes,
      },
      decoder: { ...this.decoder.counters },
      lastFrameAgeMs: Number.isNaN(this.lastFrameUs) ? null : (now - this.lastFrameUs) / 1000,
      timeSync: this.timeSync.stats(),
    };
  }

  // ---------------------------------------------------------------- connection life cycle

  private async openPort(): Promise<void> {
    const gen = ++this.generation;
    this.opens++;
    if (this.opens > 1) this.counters.reconnects++;
    let t: Transport;
    try {
      t = this.factory(this.path, this.baudRate);
    } catch (err) {
      this.lose(`cannot open ${this.path}: ${(err as Error).message}`, true);
      return;
    }
    this.transport = t;
    t.on('data', (chunk) => {
      if (gen !== this.generation) return;
      this.rxBytes += chunk.length;
      this.decoder.push(chunk, this.sink);
    });
    t.on('close', (info) => {
      if (gen !== this.generation) return;
      const why = info.error ? `: ${info.error.message}` : '';
      this.lose(info.disconnected ? `device disconnected${why}` : `port closed${why}`, info.disconnected);
    });
    try {
      await t.open();
    } catch (err) {
      if (gen === this.generation) this.lose(`cannot open ${this.path}: ${(err as Error).message}`, true);
      return;
    }
    if (gen !== this.generation) {
      // Stopped or torn down while opening: release the port that has just opened.
      t.close().catch(() => {});
      return;
    }
    this.wire.setFd(t.fd ?? -1);
    this.sm.transition([S.OPENING], S.HANDSHAKE);
    this.decoder.reset();
    this.timeSync.reset();
    this.lastFrameUs = Number.NaN;
    this.sendFrame(MsgType.HELLO, this.hostHello, FrameKind.ESSENTIAL);
    this.armHandshakeTimer('HELLO');
  }

  /**
   * Ends the present connection: timers, pending resets, the port. Bumps the generation first so
   * nothing the old port still emits reaches the link. Returns when the port is released.
   */
  private teardown(reason: string): Promise<void> {
    this.generation++;
    this.sessionLive = false;
    for (const k of ['handshakeTimer', 'heartbeatTimer', 'timeSyncTimer', 'linkTimer'] as const) this.clearTimer(k);
    for (const [seq, p] of this.pendingResets) {
      this.clock.clearTimeout(p.timer);
      p.reject(new Error(`RESET seq ${seq} abandoned: ${reason}`));
    }
    this.pendingResets.clear();
    this.syncPending = false;
    this.mcuHello = null;
    const t = this.transport;
    this.transport = null;
    if (!t) return Promise.resolve();
    this.wire.setFd(-1); // under the wire's lock: no frame is mid-write on the fd being closed
    t.removeAllListeners();
    return t.close().catch((err: unknown) => {
      this.logger.warn({ path: this.path, err: (err as Error).message }, 'closing the serial port failed');
    });
  }

  /** The connection is gone (or never came up): BACKOFF, then reopen. */
  private lose(reason: string, disconnected: boolean): void {
    if (!this.sm.is(...ACTIVE)) return;
    this.logger.warn({ path: this.path, reason, disconnected, state: this.sm.state }, 'serial link lost');
    this.estopBeforeClose(reason);
    void this.teardown(reason);
    this.sm.transition(ACTIVE, S.BACKOFF);
    this.emit('lost', { reason, disconnected });
    this.scheduleReopen(this.backoff.next());
  }

  /** The MCU must not be driven with this profile: INCOMPATIBLE, then retry at the maximum delay. */
  private refuse(message: string): void {
    this.counters.incompatible++;
    this.logger.error({ path: this.path, mcu: this.mcuHello ?? { ...this.rxHello }, profile: this.profile.id }, `MCU refused: ${message}`);
    this.estopBeforeClose(`MCU refused: ${message}`);
    void this.teardown(`MCU refused: ${message}`);
    this.sm.transition([S.HANDSHAKE, S.CONFIGURING], S.INCOMPATIBLE);
    this.emit('incompatible', { message });
    this.sm.transition([S.INCOMPATIBLE], S.BACKOFF);
    this.scheduleReopen(this.backoff.atMax());
  }

  /** The last frame of a connection that was READY: stop (category 1, what the watchdog would do). */
  private estopBeforeClose(reason: string): void {
    if (!this.sessionLive) return;
    const sent = this.sendEstop(StopCategory.CAT1, EstopSource.HOST, EstopReason.LINK_LOST);
    this.logger.warn({ path: this.path, reason, sent }, 'ESTOP put on the wire before closing the port');
  }

  private scheduleReopen(ms: number): void {
    this.logger.info({ path: this.path, delayMs: Math.round(ms) }, 'serial link reopens after backoff');
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = null;
      this.sm.transition([S.BACKOFF], S.OPENING);
      void this.openPort();
    }, ms);
  }

  private armHandshakeTimer(waitingFor: string): void {
    this.clearTimer('handshakeTimer');
    this.handshakeTimer = this.clock.setTimeout(() => {
      this.handshakeTimer = null;
      this.counters.handshakeTimeouts++;
      this.lose(`no ${waitingFor} from the MCU within ${this.handshakeTimeoutMs} ms`, false);
    }, this.handshakeTimeoutMs);
  }

  private becomeReady(): void {
    this.clearTimer('handshakeTimer');
    this.sm.transition([S.CONFIGURING], S.READY);
    this.sessionLive = true;
    this.counters.handshakes++;
    this.backoff.reset();
    // Feed the watchdog at once, then keep time sync and the silence check running.
    this.lastFeedUs = Number.NEGATIVE_INFINITY;
    this.onHeartbeatTimer();
    this.onTimeSyncTimer();
    this.silenceSuspected = false;
    this.scheduleLinkCheck();
    this.emit('ready');
  }

  // ---------------------------------------------------------------- periodic work in READY

  /** Sends HEARTBEAT when no COMMAND or HEARTBEAT went out for heartbeatIntervalMs. */
  private readonly onHeartbeatTimer = (): void => {
    this.heartbeatTimer = null;
    if (!this.sm.is(S.READY)) return;
    const now = this.clock.nowUs();
    // 1 ms slack: Node timers may fire up to a millisecond before performance.now() says.
    // The control tick thread feeds the watchdog at the control rate when it writes: a frame of its
    // since the last check counts as a feed, and this timer is only the fallback.
    const tickFrames = Atomics.load(this.wire.words, WireWord.TICK_FRAMES);
    if (tickFrames !== this.tickFramesSeen) {
      this.tickFramesSeen = tickFrames;
      this.lastFeedUs = now;
    }
    if (now - this.lastFeedUs >= this.heartbeatUs - 1000) {
      if (this.sendFrame(MsgType.HEARTBEAT, this.txHeartbeat, FrameKind.ROUTINE) >= 0) this.counters.heartbeatsSent++;
      this.lastFeedUs = now; // also when dropped for backpressure: retry next period, not in a loop
    }
    this.reportShed(now);
    const waitMs = (this.lastFeedUs + this.heartbeatUs - now) / 1000;
    this.heartbeatTimer = this.clock.setTimeout(this.onHeartbeatTimer, waitMs);
  };

  /** 'commands-shed' when COMMANDs were shed since the last report, at most once a second. */
  private reportShed(now: number): void {
    const total = Atomics.load(this.wire.words, WireWord.COMMANDS_SHED);
    if (total === this.shedReported || now - this.shedReportedUs < 1e6) return;
    const shed = (total - this.shedReported) | 0;
    const windowMs = Number.isNaN(this.shedReportedUs) ? 0 : (now - this.shedReportedUs) / 1000;
    this.shedReported = total;
    this.shedReportedUs = now;
    this.emit('commands-shed', { shed, total, windowMs });
  }

  private readonly onTimeSyncTimer = (): void => {
    this.timeSyncTimer = null;
    if (!this.sm.is(S.READY)) return;
    if (this.syncPending) this.counters.timeSyncRejected++; // the previous request went unanswered
    this.syncId = (this.syncId + 1) >>> 0;
    this.txTimeSync.id = this.syncId;
    this.syncT0 = this.clock.nowUs();
    this.syncPending = this.sendFrame(MsgType.TIME_SYNC_REQ, this.txTimeSync, FrameKind.ROUTINE) >= 0;
    const ms = this.timeSync.converged ? this.timeSyncIntervalMs : this.timeSyncFastIntervalMs;
    this.timeSyncTimer = this.clock.setTimeout(this.onTimeSyncTimer, ms);
  };

  /** Set when a link check found the line silent; the next check, after a grace, decides. */
  private silenceSuspected = false;

  private scheduleLinkCheck(): void {
    const now = this.clock.nowUs();
    const base = Number.isNaN(this.lastFrameUs) ? now : this.lastFrameUs;
    const waitMs = Math.max(0, (base + this.linkTimeoutUs - now) / 1000);
    this.linkCheckDueUs = now + waitMs * 1000;
    this.linkTimer = this.clock.setTimeout(this.onLinkTimer, waitMs);
  }

  private readonly onLinkTimer = (): void => {
    this.linkTimer = null;
    if (!this.sm.is(S.READY)) return;
    // Silence is confirmed once more after a short grace (a quarter of the timeout, at most 50 ms)
    // before the link is declared lost: when this thread's event loop was stalled (the tick thread
    // kept the wire alive meanwhile) the frames that arrived during the stall are still unread in the
    // kernel, and the port's reads take a few loop turns (epoll reports it, then the reader reads it).
    // A real loss is reported at most that grace later; the MCU's watchdog does not wait for it.
    const silentUs = this.clock.nowUs() - this.lastFrameUs;
    if (!this.silenceSuspected && (Number.isNaN(silentUs) || silentUs >= this.linkTimeoutUs)) {
      this.silenceSuspected = true;
      const graceMs = Math.min(50, this.linkTimeoutUs / 4000);
      this.linkCheckDueUs = this.clock.nowUs() + graceMs * 1000;
      this.linkTimer = this.clock.setTimeout(this.onLinkTimer, graceMs);
      return;
    }
    this.silenceSuspected = false;
    const ageUs = this.clock.nowUs() - this.lastFrameUs;
    if (Number.isNaN(ageUs) || ageUs >= this.linkTimeoutUs) {
      this.counters.linkTimeouts++;
      this.lose(`no frame from the MCU for ${Math.round(ageUs / 1000)} ms (link timeout ${this.linkTimeoutUs / 1000} ms)`, false);
      return;
    }
    this.scheduleLinkCheck();
  };

  // ---------------------------------------------------------------- receive path

  private onFrame(f: Frame): void {
    if (!this.transport) return; // torn down earlier in this chunk
    this.lastFrameUs = this.clock.nowUs();
    switch (f.type) {
      case MsgType.STATE: return this.onState(f);
      case MsgType.HEARTBEAT: {
        // Its arrival (lastFrameUs) is all it says; the body is still checked.
        const err = readFrame(f, MsgType.HEARTBEAT, this.rxHeartbeat);
        return err === null ? undefined : this.bodyError(err);
      }
      case MsgType.TIME_SYNC_RESP: return this.onTimeSyncResp(f);
      case MsgType.HELLO: return this.onHello(f);
      case MsgType.ACK: return this.onAck(f);
      case MsgType.ESTOP: return this.onEstop(f);
      case MsgType.LOG: return this.onLog(f);
      default:
        this.counters.unexpectedTypes++;
        this.protocolError('unexpected-type', `${msgTypeName(f.type)} (seq ${f.seq}) is a host-to-MCU message`);
    }
  }

  /**
   * A segment the decoder discarded. One kind matters to the handshake: frames of another protocol
   * major are dropped by the decoder before their HELLO can be read, so during HANDSHAKE they are
   * the MCU telling us its version, and it is refused like a HELLO with another proto_major. In
   * READY such a frame means the MCU restarted into another firmware: a restart, then the refusal.
   */
  private onFrameError(kind: FrameErrorKind, detail: string): void {
    this.protocolError(kind, detail);
    if (kind !== 'version' || !this.transport) return;
    const v = this.decoder.lastForeignVersion;
    const why = `firmware speaks protocol ${v}.x (frame header version ${v}), this edge speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;
    // A frame (its CRC good) of another major while READY: the MCU restarted into other firmware.
    if (this.sm.is(S.READY)) this.restartHandshake(`a frame of protocol ${v}.x arrived while READY: the MCU restarted`);
    if (this.sm.is(S.HANDSHAKE)) this.refuse(why);
  }

  private onState(f: Frame): void {
    const s = this.rxState;
    const err = readFrame(f, MsgType.STATE, s);
    if (err !== null) return this.bodyError(err);
    if (!this.sm.is(S.READY)) return; // before CONFIG is acknowledged nobody is listening
    if ((s.status & Status.CONFIGURED) === 0) {
      // Every STATE after the CONFIG ACK shows CONFIGURED: this MCU restarted and its HELLO was lost.
      this.restartHandshake(`STATE seq ${f.seq} shows the MCU unconfigured (status 0x${s.status.toString(16)}): it restarted`);
      if (this.sm.is(S.HANDSHAKE)) this.armHandshakeTimer('HELLO');
      return;
    }
    if (s.jointCount !== this.jointCount) {
      this.counters.impossibleValues++;
      this.protocolError('impossible-value', `STATE.jointCount=${s.jointCount} (seq ${f.seq}), profile "${this.profile.id}" has ${this.jointCount} joints`);
      return;
    }
    const bad = this.impossibleStateValue(s);
    if (bad !== null) {
      this.counters.impossibleValues++;
      this.protocolError('impossible-value', `STATE seq ${f.seq}: ${bad}`);
    }
    const ev = this.stateEvent;
    const ts = this.timeSync;
    ev.seq = f.seq;
    ev.mcuTimeUs = ts.unwrap(f.timeUs);
    ev.synced = ts.converged;
    ev.hostTimeUs = ev.synced ? ts.mcuUnwrappedToHostUs(ev.mcuTimeUs) : this.lastFrameUs;
    this.emit('state', ev);
  }

  /** The first value of a STATE no sensor can report, named; null when there is none. */
  private impossibleStateValue(s: StateMsg): string | null {
    for (let j = 0; j < this.jointCount; j++) {
      const v = s.velocity[j] as number, i = s.current[j] as number;
      if (!Number.isFinite(v) || Math.abs(v) > (this.absurdCps[j] as number)) return `joint ${j} velocity ${v} counts/s (limit ${this.absurdCps[j]})`;
      if (!Number.isFinite(i)) return `joint ${j} current ${i} A`;
    }
    if ((s.flags & StateFlag.IMU) !== 0) {
      for (let k = 0; k < 3; k++) {
        if (!Number.isFinite(s.accel[k]) || !Number.isFinite(s.gyro[k])) return `IMU accel (${s.accel.join(', ')}) gyro (${s.gyro.join(', ')})`;
      }
    }
    if ((s.flags & StateFlag.ORIENTATION) !== 0) {
      const q = s.quat;
      const n2 = (q[0] as number) ** 2 + (q[1] as number) ** 2 + (q[2] as number) ** 2 + (q[3] as number) ** 2;
      if (!(Math.abs(n2 - 1) < 0.1)) return `orientation (${q.join(', ')}) is not a unit quaternion`;
    }
    return null;
  }

  private onTimeSyncResp(f: Frame): void {
    const m = this.rxTimeSync;
    const err = readFrame(f, MsgType.TIME_SYNC_RESP, m);
    if (err !== null) return this.bodyError(err);
    if (!this.syncPending || m.id !== this.syncId) {
      this.counters.timeSyncRejected++;
      return;
    }
    this.syncPending = false;
    if (!this.timeSync.addSample(this.syncT0, m.mcuRxUs, m.mcuTxUs, this.lastFrameUs)) {
      this.counters.timeSyncRejected++;
      this.protocolError('impossible-value', `TIME_SYNC_RESP id=${m.id} t1=${m.mcuRxUs} t2=${m.mcuTxUs}: MCU answered before it received`);
    }
  }

  private onHello(f: Frame): void {
    const h = this.rxHello;
    const err = readFrame(f, MsgType.HELLO, h);
    if (err !== null) return this.bodyError(err);
    if (h.role !== Role.MCU) {
      this.counters.unexpectedTypes++;
      this.protocolError('unexpected-type', `HELLO with role ${h.role}, not MCU (${Role.MCU}): an echo of our own, or a loopback?`);
      return;
    }
    const state = this.sm.state;
    if (state === S.CONFIGURING && this.mcuHello?.deviceId === h.deviceId) return; // its answer to our HELLO after its boot HELLO
    if (state === S.CONFIGURING || state === S.READY) {
      // The MCU restarted: its configuration and its clock are gone. Handshake again with this HELLO.
      this.restartHandshake(`MCU 0x${h.deviceId.toString(16)} sent HELLO while the link was ${state}: it restarted (configuration, latch and clock lost)`);
      if (!this.sm.is(S.HANDSHAKE)) return; // a listener stopped the link
    } else if (state !== S.HANDSHAKE) {
      return;
    }
    const problem = checkMcuHello(h, this.profile);
    if (problem !== null) return this.refuse(problem);
    const hello = { ...h };
    this.mcuHello = hello;
    this.logger.info({ path: this.path, mcu: hello }, 'MCU HELLO accepted');
    this.sm.transition([S.HANDSHAKE], S.CONFIGURING);
    this.emit('hello', hello);
    if (!this.sm.is(S.CONFIGURING)) return; // a listener stopped the link
    this.configSeq = this.sendFrame(MsgType.CONFIG, this.config, FrameKind.ESSENTIAL);
    this.armHandshakeTimer('ACK of CONFIG');
  }

  /** The MCU restarted (CONFIGURING or READY): back to HANDSHAKE, our HELLO sent; from READY it is
   * reported as 'restarted' (a lost MCU for safety). */
  private restartHandshake(detail: string): void {
    const state = this.sm.state;
    this.logger.warn({ path: this.path, state }, `${detail}: handshaking again`);
    for (const k of ['heartbeatTimer', 'timeSyncTimer', 'linkTimer'] as const) this.clearTimer(k);
    this.syncPending = false;
    this.timeSync.reset();
    this.sm.transition([S.CONFIGURING, S.READY], S.HANDSHAKE);
    if (state === S.READY) {
      this.counters.restarts++;
      this.emit('restarted', { deviceId: this.mcuHello?.deviceId ?? 0, detail });
      if (!this.sm.is(S.HANDSHAKE)) return; // a listener stopped the link
    }
    this.sendFrame(MsgType.HELLO, this.hostHello, FrameKind.ESSENTIAL);
  }

  private onAck(f: Frame): void {
    const a = this.rxAck;
    const err = readFrame(f, MsgType.ACK, a);
    if (err !== null) return this.bodyError(err);
    const ack = { ...a };
    this.emit('ack', ack);
    if (a.ackedType === MsgType.CONFIG) {
      if (!this.sm.is(S.CONFIGURING) || a.ackedSeq !== this.configSeq) return; // stale: an earlier CONFIG
      if (a.result !== AckResult.OK) {
        return this.refuse(`MCU refused CONFIG: ${ACK_RESULT_NAMES[a.result] ?? 'unknown result'} (result ${a.result})`);
      }
      return this.becomeReady();
    }
    if (a.ackedType === MsgType.RESET) {
      const p = this.pendingResets.get(a.ackedSeq);
      if (!p || p.token !== a.detail) {
        this.protocolError('impossible-value', `ACK of RESET seq ${a.ackedSeq} token ${a.detail} matches no pending RESET`);
        return;
      }
      this.pendingResets.delete(a.ackedSeq);
      this.clock.clearTimeout(p.timer);
      // The MCU cleared its latch: the stops decided before this RESET no longer keep motion off the
      // wire (one decided after it still does). The supervisor decides whether motion resumes.
      if (a.result === AckResult.OK) this.wire.release(p.estops);
      p.resolve(ack);
    }
  }

  private onEstop(f: Frame): void {
    const e = this.rxEstop;
    const err = readFrame(f, MsgType.ESTOP, e);
    // Fail safe (SPEC.md §3): a malformed ESTOP still means stop, as category 0.
    if (err !== null) {
      this.bodyError(err);
      this.emit('mcu-estop', { category: 0, source: e.source, reason: e.reason });
      return;
    }
    this.logger.warn({ path: this.path, estop: { ...e } }, 'MCU latched an e-stop');
    this.emit('mcu-estop', { ...e });
  }

  private onLog(f: Frame): void {
    const m = this.rxLog;
    const err = readFrame(f, MsgType.LOG, m);
    if (err !== null) return this.bodyError(err);
    const entry = { level: m.level, text: m.text };
    const lvl = m.level >= 3 ? 'error' : m.level === 2 ? 'warn' : m.level === 1 ? 'info' : 'debug';
    this.logger[lvl]({ path: this.path, mcuLog: entry.text }, 'MCU log');
    this.emit('log', entry);
  }

  // ---------------------------------------------------------------- send path and reporting

  /**
   * Encodes and writes one frame through the shared wire. Routine and motion frames are skipped
   * while a transport without an fd is backed up (with an fd, the kernel's EAGAIN says so). Returns
   * the frame's sequence number, or a negative WriteFail code; encode errors are reported here.
   */
  private sendFrame<T extends MsgType>(type: T, msg: MessageMap[T], kind: FrameKind): number {
    try {
      return this.writeFrame(type, msg, kind);
    } catch (err) {
      if (err instanceof WireEncodeError) {
        this.encodeError(err.message);
        return WriteFail.ERROR;
      }
      throw err;
    }
  }

  /** sendFrame without the encode-error handling (WireEncodeError propagates, nothing written). */
  private writeFrame<T extends MsgType>(type: T, msg: MessageMap[T], kind: FrameKind): number {
    const t = this.transport;
    if (!t || !isPortOpenState(this.sm.state)) return WriteFail.NO_PORT;
    if (kind <= FrameKind.ROUTINE && t.bufferedBytes > this.maxBufferedBytes) {
      this.counters.writesDropped++;
      this.rateLimitedWarn('backpressure', `${msgTypeName(type)} not sent: ${t.bufferedBytes} bytes still queued (limit ${this.maxBufferedBytes})`);
      return WriteFail.BACKED_UP;
    }
    const seq = this.writer.write(type, msg, kind);
    if (seq >= 0) {
      this.counters.framesSent++;
    } else if (seq === WriteFail.BACKED_UP || seq === WriteFail.ERROR || seq === WriteFail.BUSY) {
      this.counters.writesDropped++;
      this.rateLimitedWarn('write', `${msgTypeName(type)} not sent: ${this.failText(seq)}`);
    }
    return seq;
  }

  private failText(code: number): string {
    switch (code) {
      case WriteFail.BACKED_UP: return 'the serial line is backed up (EAGAIN)';
      case WriteFail.ERROR: return `write failed (${this.writer.lastError})`;
      case WriteFail.BUSY: return 'the wire lock stayed taken';
      case WriteFail.INHIBITED: return 'motion inhibited by an ESTOP not yet reset';
      case WriteFail.NOT_READY: return 'link not READY';
      case WriteFail.SHED: return 'shed: the line is full';
      default: return 'no port open';
    }
  }

  private bodyError(detail: string): void {
    this.counters.bodyErrors++;
    this.protocolError('body', detail);
  }

  private encodeError(detail: string): void {
    this.counters.encodeErrors++;
    this.protocolError('encode', detail);
  }

  private protocolError(kind: ProtocolErrorKind, detail: string): void {
    this.rateLimitedWarn(kind, detail);
    this.emit('protocol-error', { kind, detail });
  }

  private rateLimitedWarn(key: string, detail: string): void {
    const suppressed = this.logLimiter.allow(key, this.clock.nowUs());
    if (suppressed >= 0) this.logger.warn({ path: this.path, kind: key, detail, suppressed }, `serial link: ${key}`);
  }

  private clearTimer(name: 'backoffTimer' | 'handshakeTimer' | 'heartbeatTimer' | 'timeSyncTimer' | 'linkTimer'): void {
    const h = this[name];
    if (h) this.clock.clearTimeout(h);
    this[name] = null;
  }
}
