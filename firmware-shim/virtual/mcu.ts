/**
 * The simulated MCU firmware: SPEC.md §4 behaviour over a simulated plant, free of I/O and of
 * real time. It is driven by `handleBytes(chunk, hostNowUs)` (bytes from the host) and
 * `tick(hostNowUs)` (time passing), and writes encoded frames through `send`.
 *
 * Invariants:
 * - The plant is stepped only forward, to the host time of each event (STATE sample, watchdog
 *   deadline, received frame), so catching up after a late wake gives the same physics and the
 *   same STATE frames as waking on time: every due STATE is emitted, each sampled at its own time.
 * - Motion is inhibited while ESTOP_LATCHED or WATCHDOG_TRIPPED is set: only DISABLE commands are
 *   obeyed. Only RESET clears either latch, and a RESET never enables motion (the plant stays in
 *   hold or disable until the next COMMAND).
 * - A controlled stop (category 1 or 2) ramps every joint's velocity to zero at its profile
 *   acceleration limit, lets the servo settle, then disables (1) or holds (2); STOPPING is set
 *   meanwhile. Category 0
 *   disables at once and cancels a ramp; a weaker stop never overrides a stronger one.
 * - The watchdog arms on the first valid COMMAND or HEARTBEAT (a robot waiting for its host at
 *   boot is not tripped) and trips at exactly lastFeed + watchdog_ms of MCU time.
 */
import {
  AckResult, Capability, CommandMode, EstopReason, EstopSource, FrameDecoder, FrameEncoder, MAX_ENCODED_FRAME, MAX_JOINTS,
  MsgType, PROTOCOL_MAJOR, PROTOCOL_MINOR, ResetWhat, Role, StateFlag, Status, StopCategory, msgTypeName, newMessage, readFrame,
  type CommandMsg, type Frame, type FrameErrorKind, type FrameSink, type MessageMap, type StateMsg,
} from '../../proto/wire/index.js';
import {
  countsToRad, cpsToRadPerSec, newSensorReading,
  type JointProfile, type Plant, type PlantMode, type RobotProfile, type SensorReading,
} from '../../hardware/index.js';
import { McuClock } from './mcu-clock.js';

/** Receives each encoded frame; `bytes` is reused after the call returns, so copy or write now. */
export type FrameSender = (bytes: Uint8Array, length: number) => void;

export interface McuHooks {
  /** A valid COMMAND arrived; `obeyed` is false when a latch made the MCU ignore it. */
  onCommand?(cmd: Readonly<CommandMsg>, obeyed: boolean): void;
  /** A stop was latched: from the host (source 0, `malformed` when its body was bad), the
   * button, the watchdog or a fault. */
  onEstop?(category: number, source: number, reason: number, malformed: boolean): void;
  onWatchdog?(): void;
  /** A discarded segment, or a frame whose body did not fit its type (kind 'body'). */
  onFrameError?(kind: FrameErrorKind | 'body', detail: string): void;
}

export interface McuOptions {
  profile: RobotProfile;
  plant: Plant;
  send: FrameSender;
  /** Default: the profile's serial.stateRateHz. */
  stateRateHz?: number;
  clockOffsetUs?: number;
  driftPpm?: number;
  /** HELLO.device_id. Default 0x5EA1B07. */
  deviceId?: number;
  /** Advertise a hardware e-stop button (see pressButton). Default false. */
  hardwareEstop?: boolean;
  hooks?: McuHooks;
}

export interface McuCounters {
  /** Valid frames received, by type name. */
  received: Record<string, number>;
  /** Frames received whose body did not fit their type, by type name. */
  bodyErrors: Record<string, number>;
  /** Frames the host should not send (STATE, ACK, ...), by type name. */
  unexpected: Record<string, number>;
  commandsObeyed: number;
  /** Valid COMMANDs ignored because of a latch. */
  commandsIgnored: number;
  /** COMMANDs with a joint count other than the MCU's. */
  commandsRejected: number;
  /** Obeyed COMMANDs where at least one target was clamped to the CONFIG limits. */
  commandsClamped: number;
  stateSent: number;
  /** STATE frames not sent because the MCU fell too far behind real time (see MAX_CATCH_UP). */
  stateSkipped: number;
  framesSent: number;
  estops: number;
  watchdogTrips: number;
  resetsAccepted: number;
  resetsRefused: number;
}

/** Largest backlog of STATE frames one tick emits; a longer stall skips (and counts) the rest. */
export const MAX_CATCH_UP = 250;
const MAX_STATE_RATE_HZ = 1000;
/** Ramps shorter than this still take one step, so STOPPING is visible in at least one STATE. */
const MIN_RAMP_US = 1000;

interface Ramp {
  category: number;
  startHostUs: number;
  /** Host µs when every joint has reached zero velocity. */
  endHostUs: number;
  /** rad/s per joint at the start of the ramp. */
  v0: Float64Array;
}

export class Mcu {
  readonly profile: RobotProfile;
  readonly plant: Plant;
  readonly clock: McuClock;
  readonly jointCount: number;
  readonly counters: McuCounters;
  /** False makes RESET's fault bit leave the plant's faults in place: a fault that persists. */
  faultsClearable = true;

  private readonly send: FrameSender;
  private readonly hooks: McuHooks;
  private readonly deviceId: number;
  private readonly hardwareEstop: boolean;
  private readonly decoder = new FrameDecoder();
  private readonly encoder = new FrameEncoder();
  private readonly tx = new Uint8Array(MAX_ENCODED_FRAME);
  private readonly sink: FrameSink;
  private readonly reading: SensorReading;
  private readonly stateMsg: StateMsg;
  private readonly rxCommand = newMessage(MsgType.COMMAND);
  private readonly rxConfig = newMessage(MsgType.CONFIG);
  private readonly rxEstop = newMessage(MsgType.ESTOP);
  private readonly rxReset = newMessage(MsgType.RESET);
  private readonly rxTimeSync = newMessage(MsgType.TIME_SYNC_REQ);
  private readonly rxHeartbeat = newMessage(MsgType.HEARTBEAT);
  private readonly rxHello = newMessage(MsgType.HELLO);
  private readonly ack = newMessage(MsgType.ACK);
  private readonly timeSyncResp = newMessage(MsgType.TIME_SYNC_RESP);
  private readonly estopOut = newMessage(MsgType.ESTOP);
  private readonly lastCmd: CommandMsg = newMessage(MsgType.COMMAND);
  private hasLastCmd = false;
  /** Scratch vectors for plant commands, rad, rad/s, A. */
  private readonly pos: Float64Array;
  private readonly vel: Float64Array;
  private readonly ff: Float64Array;
  /** CONFIG limits converted to joint units (rad, rad/s, A); valid when `configured`. */
  private readonly limMin: Float64Array;
  private readonly limMax: Float64Array;
  private readonly limVel: Float64Array;
  private readonly limCur: Float64Array;

  private stateRateHz: number;
  private statePeriodMcuUs: number;
  private nextStateMcuUs = 0;
  private plantHostUs = 0;
  private booted = false;
  /** Host µs of the event being processed; frames sent now carry this time. */
  private nowHostUs = 0;

  private watchdogMs: number;
  private watchdogArmed = false;
  private lastFeedMcuUs = 0;
  private estopLatched = false;
  private watchdogTripped = false;
  private configured = false;
  private hostSeen = false;
  private buttonPressed = false;
  private ramp: Ramp | null = null;
  /** Fault bits at the last check, to latch a fault stop on a new fault only. */
  private lastFaults = 0;

  constructor(opts: McuOptions) {
    this.profile = opts.profile;
    this.plant = opts.plant;
    this.send = opts.send;
    this.hooks = opts.hooks ?? {};
    this.deviceId = opts.deviceId ?? 0x5ea1b07;
    this.hardwareEstop = opts.hardwareEstop ?? false;
    this.clock = new McuClock(opts.clockOffsetUs, opts.driftPpm);
    const n = opts.profile.joints.length;
    if (n > MAX_JOINTS) throw new RangeError(`Mcu: profile ${opts.profile.id} has ${n} joints, the wire allows ${MAX_JOINTS}`);
    this.jointCount = n;
    this.stateRateHz = checkRate(opts.stateRateHz ?? opts.profile.serial.stateRateHz);
    this.statePeriodMcuUs = 1e6 / this.stateRateHz;
    this.watchdogMs = opts.profile.serial.watchdogMs;
    this.reading = newSensorReading(n);
    this.stateMsg = newMessage(MsgType.STATE);
    this.stateMsg.jointCount = n;
    const imu = opts.profile.imu;
    this.stateMsg.flags = (imu ? StateFlag.IMU : 0) | (imu?.fusedOrientation ? StateFlag.ORIENTATION : 0);
    this.pos = new Float64Array(n);
    this.vel = new Float64Array(n);
    this.ff = new Float64Array(n);
    this.limMin = new Float64Array(n);
    this.limMax = new Float64Array(n);
    this.limVel = new Float64Array(n);
    this.limCur = new Float64Array(n);
    this.counters = {
      received: {}, bodyErrors: {}, unexpected: {},
      commandsObeyed: 0, commandsIgnored: 0, commandsRejected: 0, commandsClamped: 0,
      stateSent: 0, stateSkipped: 0, framesSent: 0, estops: 0, watchdogTrips: 0, resetsAccepted: 0, resetsRefused: 0,
    };
    this.sink = {
      onFrame: (f) => this.onFrame(f),
      onFrameError: (kind, detail) => this.hooks.onFrameError?.(kind, detail),
    };
  }

  // ---- state accessors -------------------------------------------------------------------

  get isEstopLatched(): boolean { return this.estopLatched; }
  get isWatchdogTripped(): boolean { return this.watchdogTripped; }
  get isStopping(): boolean { return this.ramp !== null; }
  get motorsEnabled(): boolean { return this.plant.mode !== 'disable'; }
  get isConfigured(): boolean { return this.configured; }
  get isHostSeen(): boolean { return this.hostSeen; }
  get currentStateRateHz(): number { return this.stateRateHz; }
  get currentWatchdogMs(): number { return this.watchdogMs; }
  /** The last valid COMMAND received (obeyed or not), or null. Live object: copy to keep it. */
  get lastCommand(): Readonly<CommandMsg> | null { return this.hasLastCmd ? this.lastCmd : null; }
  /** Receive-side decoder counters (CRC errors, resyncs, ...). */
  get rxCounters(): FrameDecoder['counters'] { return this.decoder.counters; }

  /** The MCU's wire time_us at host time `hostUs`: the ground truth for time-sync tests. */
  mcuTimeAt(hostUs: number): number {
    return this.clock.wireTimeAt(hostUs);
  }

  /** STATE.status as it would be sent now. */
  statusBits(): number {
    return (this.estopLatched ? Status.ESTOP_LATCHED : 0)
      | (this.watchdogTripped ? Status.WATCHDOG_TRIPPED : 0)
      | (this.plant.mode !== 'disable' ? Status.MOTORS_ENABLED : 0)
      | (this.configured ? Status.CONFIGURED : 0)
      | (this.ramp !== null ? Status.STOPPING : 0)
      | (this.hostSeen ? Status.HOST_SEEN : 0);
  }

  // ---- driving ---------------------------------------------------------------------------

  /** Power-on: plant time origin, first STATE due now, HELLO sent. Call once, before the rest. */
  boot(hostNowUs: number): void {
    this.booted = true;
    this.plantHostUs = hostNowUs;
    this.nowHostUs = hostNowUs;
    this.nextStateMcuUs = this.clock.unwrapped(hostNowUs);
    this.plant.setCommand('disable', this.pos, this.vel, this.ff);
    this.sendHello();
  }

  /** Advances to `hostNowUs`, emitting every STATE frame due by then (at most MAX_CATCH_UP). */
  tick(hostNowUs: number): void {
    this.requireBooted();
    const mcuNow = this.clock.unwrapped(hostNowUs);
    let emitted = 0;
    while (this.nextStateMcuUs <= mcuNow) {
      if (emitted === MAX_CATCH_UP) {
        const behind = Math.floor((mcuNow - this.nextStateMcuUs) / this.statePeriodMcuUs) + 1;
        this.counters.stateSkipped += behind;
        this.nextStateMcuUs += behind * this.statePeriodMcuUs;
        break;
      }
      // advanceTo never steps back: a STATE due before the plant's time is sampled at that time.
      this.advanceTo(this.clock.hostAt(this.nextStateMcuUs));
      this.sendState();
      this.nextStateMcuUs += this.statePeriodMcuUs;
      emitted++;
    }
    this.advanceTo(hostNowUs);
  }

  /** Bytes from the host, arrived at `hostNowUs` (also the time_sync t1 of a request in them). */
  handleBytes(chunk: Uint8Array, hostNowUs: number): void {
    this.requireBooted();
    this.advanceTo(hostNowUs);
    this.decoder.push(chunk, this.sink);
  }

  /** The hardware e-stop button (only with `hardwareEstop`): pressing latches a category 0 stop. */
  pressButton(hostNowUs: number): void {
    this.advanceTo(hostNowUs);
    this.buttonPressed = true;
    this.latchStop(StopCategory.CAT0, EstopSource.MCU_BUTTON, EstopReason.BUTTON, false, true);
  }
  releaseButton(): void {
    this.buttonPressed = false;
  }

  // ---- time ------------------------------------------------------------------------------

  private requireBooted(): void {
    if (!this.booted) throw new Error('Mcu: boot() must be called first');
  }

  /** Steps the plant to `hostUs`, handling the watchdog deadline, ramp end and faults on the way. */
  private advanceTo(hostUs: number): void {
    if (hostUs <= this.plantHostUs) {
      this.nowHostUs = this.plantHostUs;
      return;
    }
    if (this.watchdogArmed && !this.watchdogTripped) {
      const deadlineHostUs = this.clock.hostAt(this.lastFeedMcuUs + this.watchdogMs * 1000);
      if (deadlineHostUs <= hostUs) {
        this.stepPlantTo(Math.max(deadlineHostUs, this.plantHostUs));
        this.tripWatchdog();
      }
    }
    this.stepPlantTo(hostUs);
  }

  private stepPlantTo(hostUs: number): void {
    const ramp = this.ramp;
    if (ramp && ramp.endHostUs <= hostUs) {
      this.integrate(Math.max(ramp.endHostUs, this.plantHostUs));
      this.finishRamp();
    }
    this.integrate(hostUs);
    this.checkFaults();
  }

  /** Plant integration from plantHostUs to hostUs, applying the ramp's velocity at the start. */
  private integrate(hostUs: number): void {
    const dt = hostUs - this.plantHostUs;
    if (dt <= 0) return;
    if (this.ramp) this.applyRamp(this.plantHostUs);
    this.plant.step(dt * 1e-6);
    this.plantHostUs = hostUs;
    this.nowHostUs = hostUs;
  }

  // ---- stops -----------------------------------------------------------------------------

  private latchStop(category: number, source: number, reason: number, malformed: boolean, report: boolean): void {
    this.estopLatched = true;
    this.counters.estops++;
    this.beginStop(category);
    if (report) this.sendEstop(category, source, reason);
    this.hooks.onEstop?.(category, source, reason, malformed);
  }

  /** Starts the stop of `category` unless a stronger one is already in force. */
  private beginStop(category: number): void {
    if (category === StopCategory.CAT0 || this.plant.mode === 'disable') {
      this.ramp = null;
      this.setPlant('disable');
      return;
    }
    if (this.ramp) {
      // Category 1 (power off at the end) is stronger than 2 (hold at the end).
      if (category === StopCategory.CAT1) this.ramp.category = StopCategory.CAT1;
      return;
    }
    const v0 = new Float64Array(this.jointCount);
    let longestUs = MIN_RAMP_US;
    for (let j = 0; j < this.jointCount; j++) {
      const v = this.plant.truth.qd[j] as number;
      v0[j] = v;
      const joint = this.profile.joints[j] as JointProfile;
      // Decelerate at the limit, then let the servo settle (4 time constants of its loop) before
      // power goes off or hold takes over, so the joint is at rest when the stop completes.
      const settleS = 4 / (2 * Math.PI * joint.servo.naturalFrequencyHz * joint.servo.dampingRatio);
      longestUs = Math.max(longestUs, (Math.abs(v) / joint.limits.accelerationMax + settleS) * 1e6);
    }
    this.ramp = { category, startHostUs: this.plantHostUs, endHostUs: this.plantHostUs + longestUs, v0 };
    this.applyRamp(this.plantHostUs);
  }

  /** Velocity targets of the ramp at `hostUs`: each joint decelerates at its own limit. */
  private applyRamp(hostUs: number): void {
    const r = this.ramp as Ramp;
    const t = (hostUs - r.startHostUs) * 1e-6;
    const q = this.plant.truth.q;
    for (let j = 0; j < this.jointCount; j++) {
      const v0 = r.v0[j] as number;
      const dv = (this.profile.joints[j] as JointProfile).limits.accelerationMax * t;
      this.vel[j] = Math.abs(v0) <= dv ? 0 : v0 - Math.sign(v0) * dv;
      this.pos[j] = q[j] as number;
      this.ff[j] = 0;
    }
    this.plant.setCommand('velocity', this.pos, this.vel, this.ff);
  }

  private finishRamp(): void {
    const r = this.ramp as Ramp;
    this.ramp = null;
    this.setPlant(r.category === StopCategory.CAT2 ? 'hold' : 'disable');
  }

  private tripWatchdog(): void {
    this.watchdogTripped = true;
    this.counters.watchdogTrips++;
    this.beginStop(StopCategory.CAT1);
    this.sendEstop(StopCategory.CAT1, EstopSource.MCU_WATCHDOG, EstopReason.WATCHDOG);
    this.hooks.onWatchdog?.();
  }

  /** A new plant fault latches a category 1 stop from source 3, reason = the fault bits. */
  private checkFaults(): void {
    const faults = this.plant.faultBits().faults;
    const fresh = faults & ~this.lastFaults;
    this.lastFaults = faults;
    if (fresh !== 0) this.latchStop(StopCategory.CAT1, EstopSource.MCU_FAULT, EstopReason.FAULT, false, true);
  }

  private setPlant(mode: PlantMode): void {
    this.plant.setCommand(mode, this.pos, this.vel, this.ff);
  }

  private get motionInhibited(): boolean {
    return this.estopLatched || this.watchdogTripped;
  }

  // ---- receive ---------------------------------------------------------------------------

  private onFrame(f: Frame): void {
    switch (f.type) {
      case MsgType.HELLO:
        if (this.readBody(f, MsgType.HELLO, this.rxHello) === null) { this.hostSeen = true; this.sendHello(); }
        return;
      case MsgType.COMMAND:
        if (this.readBody(f, MsgType.COMMAND, this.rxCommand) === null) this.onCommand(this.rxCommand);
        return;
      case MsgType.HEARTBEAT:
        if (this.readBody(f, MsgType.HEARTBEAT, this.rxHeartbeat) === null) this.feedWatchdog();
        return;
      case MsgType.ESTOP: {
        const err = this.readBody(f, MsgType.ESTOP, this.rxEstop);
        // Fail-safe (SPEC §3 ESTOP): a malformed body still stops, as category 0, and is reported
        // back as an ESTOP of the MCU's own so the host knows the stop took effect.
        if (err === null) {
          const m = this.rxEstop;
          this.latchStop(m.category, m.source, m.reason, false, false);
        } else {
          this.sendLog(2, `malformed ESTOP (${err}): stopped as category 0`);
          this.latchStop(StopCategory.CAT0, EstopSource.HOST, EstopReason.MALFORMED_ESTOP, true, true);
        }
        return;
      }
      case MsgType.RESET: {
        if (this.readBody(f, MsgType.RESET, this.rxReset) !== null) {
          this.sendAck(MsgType.RESET, AckResult.BAD_VALUE, f.seq, 0);
          this.counters.resetsRefused++;
          return;
        }
        this.onReset(this.rxReset.what, this.rxReset.token, f.seq);
        return;
      }
      case MsgType.TIME_SYNC_REQ: {
        if (this.readBody(f, MsgType.TIME_SYNC_REQ, this.rxTimeSync) !== null) return;
        // t1: the chunk's arrival stands for the delimiter's; t2: now, as the reply is built.
        const resp = this.timeSyncResp;
        resp.id = this.rxTimeSync.id;
        resp.mcuRxUs = resp.mcuTxUs = this.mcuTimeAt(this.nowHostUs);
        this.emit(MsgType.TIME_SYNC_RESP, resp);
        return;
      }
      case MsgType.CONFIG: {
        const err = this.readBody(f, MsgType.CONFIG, this.rxConfig);
        this.sendAck(MsgType.CONFIG, err === null ? this.applyConfig() : AckResult.BAD_VALUE, f.seq, 0);
        return;
      }
      default:
        count(this.counters.unexpected, msgTypeName(f.type));
    }
  }

  /** Reads the body into `out` and counts it (received or body error, reported); returns the error or null. */
  private readBody<T extends MsgType>(f: Frame, type: T, out: MessageMap[T]): string | null {
    const err = readFrame(f, type, out);
    if (err === null) {
      count(this.counters.received, msgTypeName(type));
      return null;
    }
    count(this.counters.bodyErrors, msgTypeName(type));
    this.hooks.onFrameError?.('body', err);
    return err;
  }

  private feedWatchdog(): void {
    this.hostSeen = true;
    this.watchdogArmed = true;
    this.lastFeedMcuUs = this.clock.unwrapped(this.nowHostUs);
  }

  private onCommand(m: CommandMsg): void {
    const c = this.counters;
    if (m.jointCount !== this.jointCount) {
      c.commandsRejected++;
      this.hooks.onFrameError?.('body', `COMMAND.jointCount=${m.jointCount}, this MCU has ${this.jointCount} joints`);
      return;
    }
    this.feedWatchdog();
    copyCommand(m, this.lastCmd);
    this.hasLastCmd = true;
    const obey = m.mode === CommandMode.DISABLE || !this.motionInhibited;
    if (!obey) {
      c.commandsIgnored++;
      this.hooks.onCommand?.(m, false);
      return;
    }
    c.commandsObeyed++;
    if (m.mode === CommandMode.DISABLE) this.ramp = null;
    let clamped = false;
    for (let j = 0; j < this.jointCount; j++) {
      const joint = this.profile.joints[j] as JointProfile;
      let q = countsToRad(joint, m.position[j] as number);
      let v = cpsToRadPerSec(joint, m.velocity[j] as number);
      let i = m.feedforward[j] as number;
      if (this.configured) {
        const q0 = q, v0 = v, i0 = i;
        q = clamp(q, this.limMin[j] as number, this.limMax[j] as number);
        v = clamp(v, -(this.limVel[j] as number), this.limVel[j] as number);
        i = clamp(i, -(this.limCur[j] as number), this.limCur[j] as number);
        if (q !== q0 || v !== v0 || i !== i0) clamped = true;
      }
      this.pos[j] = q; this.vel[j] = v; this.ff[j] = i;
    }
    if (clamped) c.commandsClamped++;
    this.plant.setCommand(MODES[m.mode] as PlantMode, this.pos, this.vel, this.ff);
    this.hooks.onCommand?.(m, true);
  }

  private onReset(what: number, token: number, seq: number): void {
    const c = this.counters;
    const faultsNow = this.plant.faultBits().faults;
    const faultsWillPersist = faultsNow !== 0 && (!(what & ResetWhat.FAULTS) || !this.faultsClearable);
    if (this.buttonPressed || faultsWillPersist) {
      c.resetsRefused++;
      this.sendAck(MsgType.RESET, AckResult.REFUSED_UNSAFE, seq, token);
      return;
    }
    if (what & ResetWhat.FAULTS) {
      this.plant.clearFaults();
      this.lastFaults = 0;
    }
    if (what & ResetWhat.ESTOP) this.estopLatched = false;
    if (what & ResetWhat.WATCHDOG) {
      this.watchdogTripped = false;
      this.watchdogArmed = false;
    }
    // Never enables motion: anything but disable/hold (a finished stop leaves one of them) holds.
    if (!this.ramp && this.plant.mode !== 'disable' && this.plant.mode !== 'hold') this.setPlant('hold');
    c.resetsAccepted++;
    this.sendAck(MsgType.RESET, AckResult.OK, seq, token);
  }

  /** Applies rxConfig (already checked by the codec); returns the ACK result. */
  private applyConfig(): number {
    const m = this.rxConfig;
    if (m.jointCount !== this.jointCount) return AckResult.BAD_VALUE;
    if (m.stateRateHz > MAX_STATE_RATE_HZ) return AckResult.BAD_VALUE;
    for (let j = 0; j < this.jointCount; j++) {
      const joint = this.profile.joints[j] as JointProfile;
      const lo = m.posMin[j] as number, hi = m.posMax[j] as number;
      if (joint.encoder.singleTurn && hi - lo >= joint.encoder.countsPerRev - 1) {
        // The whole sensor range (the host sends it for limits across the encoder's wrap): no
        // position clamp here. Converted, both ends would land on the wrap angle and pin the joint.
        this.limMin[j] = Number.NEGATIVE_INFINITY;
        this.limMax[j] = Number.POSITIVE_INFINITY;
      } else {
        const a = countsToRad(joint, lo);
        const b = countsToRad(joint, hi);
        // direction -1 swaps the ends; a single-turn wrap is resolved by countsToRad.
        this.limMin[j] = Math.min(a, b);
        this.limMax[j] = Math.max(a, b);
      }
      this.limVel[j] = Math.abs(cpsToRadPerSec(joint, m.velMax[j] as number));
      this.limCur[j] = m.currentMax[j] as number;
    }
    if (m.watchdogMs !== 0) this.watchdogMs = m.watchdogMs;
    if (m.stateRateHz !== 0 && m.stateRateHz !== this.stateRateHz) {
      this.stateRateHz = m.stateRateHz;
      this.statePeriodMcuUs = 1e6 / m.stateRateHz;
      this.nextStateMcuUs = this.clock.unwrapped(this.nowHostUs) + this.statePeriodMcuUs;
    }
    this.configured = true;
    return AckResult.OK;
  }

  // ---- send ------------------------------------------------------------------------------

  private emit<T extends MsgType>(type: T, msg: MessageMap[T]): void {
    const n = this.encoder.encodeInto(type, msg, this.mcuTimeAt(this.nowHostUs), this.tx, 0);
    this.counters.framesSent++;
    this.send(this.tx, n);
  }

  private sendHello(): void {
    const imu = this.profile.imu;
    const fw = this.profile.firmware;
    this.emit(MsgType.HELLO, {
      protoMajor: PROTOCOL_MAJOR, protoMinor: PROTOCOL_MINOR,
      fwMajor: fw.major, fwMinor: fw.minor, fwPatch: fw.patch,
      jointCount: this.jointCount, role: Role.MCU,
      capabilities: (imu ? Capability.IMU : 0) | (imu?.fusedOrientation ? Capability.FUSED_ORIENTATION : 0)
        | Capability.CURRENT_SENSE | Capability.VELOCITY_MODE | Capability.CURRENT_MODE | Capability.TIME_SYNC
        | (this.hardwareEstop ? Capability.HARDWARE_ESTOP : 0),
      profileId: this.profile.id, deviceId: this.deviceId,
    });
  }

  /** One STATE from the plant's sensors at the present plant time. Allocation-free. */
  private sendState(): void {
    const s = this.stateMsg;
    const r = this.reading;
    this.plant.sense(r);
    s.position.set(r.encoderCounts);
    s.velocity.set(r.velocityCps);
    s.current.set(r.currentA);
    if (s.flags & StateFlag.IMU) { s.accel.set(r.accel); s.gyro.set(r.gyro); }
    if (s.flags & StateFlag.ORIENTATION) s.quat.set(r.quat);
    const fb = this.plant.faultBits();
    s.faults = fb.faults & 0xffff;
    s.jointFaultMask = fb.jointFaultMask >>> 0;
    s.status = this.statusBits();
    this.emit(MsgType.STATE, s);
    this.counters.stateSent++;
  }

  private sendEstop(category: number, source: number, reason: number): void {
    const e = this.estopOut;
    e.category = category; e.source = source; e.reason = reason & 0xffff;
    this.emit(MsgType.ESTOP, e);
  }

  private sendAck(ackedType: number, result: number, ackedSeq: number, detail: number): void {
    const a = this.ack;
    a.ackedType = ackedType; a.result = result; a.ackedSeq = ackedSeq; a.detail = detail;
    this.emit(MsgType.ACK, a);
  }

  private sendLog(level: number, text: string): void {
    this.emit(MsgType.LOG, { level, text: text.slice(0, 200) });
  }
}

const MODES: readonly PlantMode[] = ['disable', 'hold', 'position', 'velocity', 'current'];

function checkRate(hz: number): number {
  if (!Number.isInteger(hz) || hz < 1 || hz > MAX_STATE_RATE_HZ) throw new RangeError(`Mcu: stateRateHz=${hz} must be an integer in 1..${MAX_STATE_RATE_HZ}`);
  return hz;
}
function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}
function copyCommand(src: CommandMsg, dst: CommandMsg): void {
  dst.jointCount = src.jointCount;
  dst.mode = src.mode;
  dst.position.set(src.position);
  dst.velocity.set(src.velocity);
  dst.feedforward.set(src.feedforward);
}

