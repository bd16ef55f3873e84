/**
 * The composed edge safety path on an injected clock, for the model-based safety test and its
 * benchmark: a SerialLink over an in-memory line, the StateEstimator, the SafetySupervisor (bound
 * as the daemon binds it), the CommandGate fed once per control tick, and the MQTT CommandHandler
 * fed messages directly (no broker), against the virtual MCU (firmware-shim/virtual's public API)
 * on a simulated plant, every byte through the real codec.
 *
 * Time moves only in step(): 1 ms at a time the clock fires due timers, the MCU runs, the line
 * delivers what is due both ways, the gate gets its tick, and pending promise callbacks run. The
 * line can delay or drop the MCU's ACKs, corrupt STATE values, go silent, or vanish (unplug); the
 * MCU can reboot (a new firmware instance on the same plant) or have its e-stop button pressed.
 *
 * Everything the invariants need is recorded as it happens: every frame the host wrote (decoded,
 * with the supervisor's state and the plant's true position at that instant), every supervisor
 * and handler event, and the model's own stop requests, resets, resumes, plans and reboots.
 */
import { EventEmitter } from 'node:events';
import { countsToRad, Plant, type RobotProfile } from '../../hardware/index.js';
import {
  CommandMode, FrameDecoder, FrameEncoder, MsgType, newMessage, readFrame, type CommandMsg, type Frame, type StateMsg,
} from '../../proto/wire/index.js';
import { encodePayload, fleetTopics, robotTopics, type SafetyEventBody } from '../../proto/mqtt/index.js';
import { ManualClock } from '../../edge/clock.js';
import { newObservation, type Observation } from '../../edge/estimation/observation.js';
import { StateEstimator } from '../../edge/estimation/state-estimator.js';
import { CommandHandler } from '../../edge/mqtt/command-handler.js';
import { safetyOf } from '../../edge/mqtt/summary-fields.js';
import { CommandGate } from '../../edge/safety/command-gate.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { bindSupervisor } from '../../edge/safety/supervisor-bindings.js';
import type { RefusalEvent, SafetyCause, SafetySource, TransitionEvent } from '../../edge/safety/safety-types.js';
import { SerialLink } from '../../edge/serial/serial-link.js';
import type { Transport, TransportEvents } from '../../edge/serial/transport.js';
import { testJoint } from '../../edge/serial/testing/profile-fixture.js';
import { Mcu } from '../../firmware-shim/virtual/index.js';

export const FLEET = 'model';
export const ROBOT = 'r1';
/** Control tick period, ms (the gate runs once per tick). */
export const TICK_MS = 10;
/** STATE rate asked for in CONFIG. */
export const STATE_HZ = 200;
export const WATCHDOG_MS = 100;
/** Wall-clock epoch of the injected clock's zero, for MQTT `at` fields. */
const EPOCH_MS = 1_800_000_000_000;

/** Two joints, no IMU: small enough to simulate fast, with a reversed and a single-turn encoder. */
export function modelProfile(): RobotProfile {
  return {
    id: 'model-arm2', name: 'Model-test arm, two joints',
    joints: [
      testJoint('shoulder', {}, { positionMin: -1, positionMax: 1, velocityMax: 2, accelerationMax: 10 }),
      testJoint('wrist', { direction: -1, zeroOffsetCounts: 1000 }, { positionMin: -1.5, positionMax: 1.5, velocityMax: 3, accelerationMax: 20 }),
    ],
    imu: null,
    serial: { baudRate: 2_000_000, stateRateHz: STATE_HZ, watchdogMs: WATCHDOG_MS },
    poses: { home: [0.2, -0.3] },
    firmware: { major: 1, minor: 2, patch: 3 },
  };
}

/** A frame the host wrote, decoded, with what was true at that instant. */
export interface WireRecord {
  /** Position in the rig's one order of everything recorded. */
  ord: number;
  atUs: number;
  type: number;
  /** COMMAND mode; -1 for other types. */
  mode: number;
  /** COMMAND positions, rad; empty for other types. */
  rad: number[];
  /** Supervisor state when it was written. */
  state: string;
  /** The plant's true joint angles when it was written. */
  truth: number[];
  /** The estimator's published joint angles when it was written (empty before the first STATE). */
  measured: number[];
}

/** A stop the model asked for, and what the supervisor made of it. */
export interface StopRequest {
  ord: number;
  atUs: number;
  what: string;
  /** The source the supervisor must name for it; null for a stop the supervisor is not asked for
   * (SIGTERM's ESTOP, written by the daemon straight to the wire). */
  expect: { cause: SafetyCause; source: SafetySource } | null;
  /** Supervisor stop events (transition to ESTOP/FAULT, or stop-while-latched) emitted during the request. */
  events: StopEvent[];
}

export interface StopEvent {
  ord: number;
  atUs: number;
  cause: SafetyCause;
  source: SafetySource;
  kind: 'transition' | 'while-latched';
}

/** How the line treats the MCU's next ACKs. */
export type AckFault = { kind: 'delay'; ms: number } | { kind: 'drop' };

/** One direction's queue entry: bytes due at a time. */
interface Pending {
  dueUs: number;
  bytes: Uint8Array;
}

const MOTION_MODES: ReadonlySet<number> = new Set([CommandMode.POSITION, CommandMode.VELOCITY, CommandMode.CURRENT]);

export function isMotion(r: WireRecord): boolean {
  return r.type === MsgType.COMMAND && MOTION_MODES.has(r.mode);
}

/** The host side of the simulated line: one instance per open(). */
class ModelPort extends EventEmitter<TransportEvents> implements Transport {
  readonly path = '/dev/ttyMODEL';
  readonly bufferedBytes = 0;
  private open_ = false;
  closed = false;

  constructor(private readonly rig: SafetyRig) {
    super();
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    await Promise.resolve();
    if (this.rig.unplugged) throw new Error(`${this.path}: no such device (unplugged)`);
    this.open_ = true;
  }

  write(bytes: Uint8Array): boolean {
    if (!this.open_) return false;
    this.rig.hostWrote(bytes);
    return true;
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.closed = true;
    await Promise.resolve();
  }

  /** The device vanished: close event (serialport's disconnect). */
  vanish(): void {
    if (!this.open_) return;
    this.open_ = false;
    this.emit('close', { disconnected: true, error: Object.assign(new Error(`${this.path}: device disconnected`), { disconnected: true }) });
  }

  deliver(bytes: Uint8Array): void {
    if (this.open_) this.emit('data', bytes);
  }
}

export class SafetyRig {
  readonly profile = modelProfile();
  readonly clock = new ManualClock(0);
  readonly link: SerialLink;
  readonly estimator: StateEstimator;
  readonly supervisor: SafetySupervisor;
  readonly gate: CommandGate;
  readonly handler: CommandHandler;
  readonly plant: Plant;
  mcu: Mcu;

  // ---- records for the invariants -------------------------------------------------------------
  readonly wire: WireRecord[] = [];
  readonly transitions: (TransitionEvent & { ord: number })[] = [];
  readonly stopEvents: StopEvent[] = [];
  readonly refusals: RefusalEvent[] = [];
  readonly handlerEvents: SafetyEventBody[] = [];
  readonly linkEvents: { from: string; to: string; atUs: number }[] = [];
  /** Order of each link event. */
  readonly linkOrds: number[] = [];
  readonly stopRequests: StopRequest[] = [];
  /** Order of each MCU boot after the first. */
  readonly reboots: number[] = [];
  /** Order of each time the link reported the MCU restarted (the host learns of a fast reboot). */
  readonly restarts: number[] = [];
  /** Order of each plan the model delivered (valid ones: a lapsed plan is no plan). */
  readonly plans: number[] = [];
  /** µs of the last thing the model did other than let time pass. */
  lastDisturbanceUs = 0;
  private ordCounter = 0;
  resetMessages = 0;
  resumeMessages = 0;
  /** The fleet latch as the model set it (an e-stop on the fleet topic, malformed included, until a release). */
  fleetLatchExpected = false;
  shutDown = false;

  // ---- the line ---------------------------------------------------------------------------------
  unplugged = false;
  /** MCU → host bytes are lost until this time (µs); the MCU still hears the host. */
  private silentUntilUs = Number.NEGATIVE_INFINITY;
  /** The MCU is off (rebooting) until this time (µs). */
  private offUntilUs = Number.NEGATIVE_INFINITY;
  private port: ModelPort | null = null;
  private toMcu: Pending[] = [];
  private toHost: Pending[] = [];
  private readonly ackFaults: AckFault[] = [];
  private corruptNext: ((s: StateMsg) => void) | null = null;
  private readonly peek = new FrameDecoder();
  private readonly hostWireDecoder = new FrameDecoder();
  private readonly reEncoder = new FrameEncoder();
  private readonly rxState = newMessage(MsgType.STATE);
  private readonly rxCommand: CommandMsg = newMessage(MsgType.COMMAND);
  private peeked: Frame | null = null;

  // ---- the control tick -------------------------------------------------------------------------
  private nextTickUs = 0;
  private badTargetTicks = 0;
  private planUntilUs = Number.NEGATIVE_INFINITY;
  private readonly target: Float64Array;
  private readonly obs: Observation;
  private msgId = 0;

  constructor(readonly seed = 1) {
    const n = this.profile.joints.length;
    this.target = new Float64Array(n);
    this.plant = new Plant(this.profile, { seed, initialPose: this.profile.poses['home'] as number[] });
    this.mcu = this.bootMcu();
    this.link = new SerialLink({
      path: '/dev/ttyMODEL', profile: this.profile, clock: this.clock, software: { major: 0, minor: 2, patch: 0 },
      random: () => 0.5, backoff: { initialMs: 50, maxMs: 400, jitter: 0 }, stateRateHz: STATE_HZ,
      transportFactory: () => {
        this.port = new ModelPort(this);
        return this.port;
      },
    });
    this.estimator = new StateEstimator(this.profile);
    this.obs = newObservation(n);
    this.link.on('state', (ev) => this.estimator.update(ev));
    this.link.on('restarted', () => this.restarts.push(this.nextOrd()));
    this.supervisor = new SafetySupervisor(this.link, this.clock);
    bindSupervisor(this.supervisor, this.link, this.estimator);
    this.gate = new CommandGate(this.profile, this.link, this.supervisor, this.clock, TICK_MS);
    const sup = this.supervisor;
    sup.on('transition', (e) => {
      this.transitions.push({ ...e, ord: this.nextOrd() });
      if (e.to === 'ESTOP' || e.to === 'FAULT') this.stopEvents.push({ ord: this.nextOrd(), atUs: e.at, cause: e.cause, source: e.source, kind: 'transition' });
    });
    sup.on('stop-while-latched', (e) => this.stopEvents.push({ ord: this.nextOrd(), atUs: e.at, cause: e.cause, source: e.source, kind: 'while-latched' }));
    sup.on('refused', (e) => this.refusals.push(e));
    sup.on('link', (e) => {
      this.linkEvents.push({ from: e.from, to: e.to, atUs: e.at });
      this.linkOrds.push(this.nextOrd());
    });
    this.handler = new CommandHandler({
      fleet: FLEET, robot: ROBOT, wire: this.link, estop: sup, reset: sup,
      resume: { resume: (op) => sup.resume(op) },
      // Only olga may reset and resume this robot; the broker vouches for the sender (the last topic
      // level), so a 'viewer' here is an account outside this list writing under its own name.
      operators: ['olga'],
      events: { report: (e) => this.handlerEvents.push(e) },
      now: () => this.wallMs(),
    });
    this.link.start();
  }

  nextOrd(): number {
    return this.ordCounter++;
  }

  wallMs(): number {
    return EPOCH_MS + Math.floor(this.clock.nowUs() / 1000);
  }

  get nowUs(): number {
    return this.clock.nowUs();
  }

  /** The MCU's own latch (the truth the host mirrors). */
  get mcuLatched(): boolean {
    return this.mcu.isEstopLatched || this.mcu.isWatchdogTripped;
  }

  /** The MCU is powered and its frames reach the host unaltered (a queued ACK fault only matters
   * with a RESET in flight, which quiet excludes). */
  get lineHealthy(): boolean {
    const now = this.nowUs;
    return !this.unplugged && !this.mcuPoweredOff && now >= this.silentUntilUs && this.corruptNext === null;
  }

  /** µs since which nothing has disturbed the system: the model's last action, the MCU's last
   * power-on, the end of the last silence. */
  get undisturbedSinceUs(): number {
    return Math.max(this.lastDisturbanceUs, this.offUntilUs, this.silentUntilUs);
  }

  /** What the dashboard's state summary would show for safety. */
  summarySafety(): ReturnType<typeof safetyOf> {
    return safetyOf(this.supervisor);
  }

  // ---- time ----------------------------------------------------------------------------------

  /** Runs `ms` milliseconds of simulated time, 1 ms at a time. */
  async step(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      this.clock.advance(1);
      const now = this.nowUs;
      if (this.mcuPoweredOff && now >= this.offUntilUs) this.powerOn();
      if (!this.mcuPoweredOff) this.mcu.tick(now);
      this.deliver(now);
      if (now >= this.nextTickUs && !this.shutDown) {
        this.nextTickUs = now + TICK_MS * 1000;
        this.controlTick();
      }
      await flushMicrotasks();
    }
  }

  private controlTick(): void {
    const measured = this.estimator.read(this.obs) && this.obs.sampleCount > 0 ? this.obs.position : null;
    let target: Float64Array | null = null;
    if (this.nowUs < this.planUntilUs) {
      // A slow wave around home, inside the limits: what a plan would decode to.
      const t = this.nowUs * 1e-6;
      const home = this.profile.poses['home'] as number[];
      for (let j = 0; j < this.target.length; j++) this.target[j] = (home[j] as number) + 0.3 * Math.sin(2 * Math.PI * 0.5 * t + j);
      target = this.target;
      if (this.badTargetTicks > 0) {
        this.badTargetTicks--;
        this.target[0] = Number.NaN;
      }
    }
    this.gate.submit(target, measured, measured !== null ? this.obs.hostTimeUs : undefined);
  }

  // ---- the line ------------------------------------------------------------------------------

  /** Called by the port for every host write: recorded (decoded) and queued for the MCU. */
  hostWrote(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    this.hostWireDecoder.push(copy, {
      onFrame: (f) => this.recordHostFrame(f),
      onFrameError: (kind, detail) => { throw new Error(`the host wrote a bad frame (${kind}): ${detail}`); },
    });
    if (!this.unplugged) this.toMcu.push({ dueUs: this.nowUs + 1000, bytes: copy });
  }

  private recordHostFrame(f: Frame): void {
    const rec: WireRecord = {
      ord: this.nextOrd(), atUs: this.nowUs, type: f.type, mode: -1, rad: [], state: this.supervisor.state,
      truth: Array.from(this.plant.truth.q), measured: [],
    };
    if (this.estimator.read(this.obs) && this.obs.sampleCount > 0) rec.measured = Array.from(this.obs.position);
    if (f.type === MsgType.COMMAND) {
      const err = readFrame(f, MsgType.COMMAND, this.rxCommand);
      if (err !== null) throw new Error(`the host wrote a bad COMMAND: ${err}`);
      rec.mode = this.rxCommand.mode;
      rec.rad = this.profile.joints.map((j, i) => countsToRad(j, this.rxCommand.position[i] as number));
    }
    this.wire.push(rec);
  }

  /** MCU frames, one per call: ACKs may be delayed or dropped, a STATE corrupted, all lost while silent. */
  private mcuSent(bytes: Uint8Array, length: number): void {
    const now = this.nowUs;
    if (this.unplugged || now < this.silentUntilUs) return;
    let out = Uint8Array.from(bytes.subarray(0, length));
    const type = this.frameType(out);
    let due = now;
    if (type === MsgType.ACK && this.ackFaults.length > 0) {
      const f = this.ackFaults.shift() as AckFault;
      if (f.kind === 'drop') return;
      due = now + f.ms * 1000;
    } else if (type === MsgType.STATE && this.corruptNext !== null && this.peeked !== null) {
      const s = this.rxState;
      if (readFrame(this.peeked, MsgType.STATE, s) === null) {
        this.corruptNext(s);
        this.corruptNext = null;
        out = Uint8Array.from(this.reEncoder.encode(MsgType.STATE, s, this.peeked.timeUs));
      }
    }
    this.toHost.push({ dueUs: due, bytes: out });
  }

  private frameType(bytes: Uint8Array): number {
    this.peeked = null;
    this.peek.push(bytes, { onFrame: (f) => { this.peeked = f; }, onFrameError: () => {} });
    return this.peeked === null ? -1 : (this.peeked as Frame).type;
  }

  private deliver(now: number): void {
    if (this.toMcu.length > 0) {
      const keep: Pending[] = [];
      for (const p of this.toMcu) {
        if (p.dueUs > now) keep.push(p);
        else if (!this.mcuPoweredOff) this.mcu.handleBytes(p.bytes, now);
      }
      this.toMcu = keep;
    }
    if (this.toHost.length > 0) {
      const keep: Pending[] = [];
      for (const p of this.toHost) {
        if (p.dueUs > now) keep.push(p);
        else this.port?.deliver(p.bytes);
      }
      this.toHost = keep;
    }
  }

  // ---- the MCU -------------------------------------------------------------------------------

  private mcuPoweredOff = false;

  private bootMcu(): Mcu {
    const mcu = new Mcu({
      profile: this.profile, plant: this.plant, hardwareEstop: true,
      send: (bytes, length) => this.mcuSent(bytes, length),
    });
    mcu.boot(this.clock.nowUs());
    return mcu;
  }

  private powerOn(): void {
    this.mcuPoweredOff = false;
    this.reboots.push(this.nextOrd());
    this.mcu = this.bootMcu();
  }

  /** Power-cycles the MCU: off for `offMs` (0: it boots at the next step), then a fresh firmware
   * on the same plant (the joints stay where they are). */
  reboot(offMs: number): void {
    this.mcuPoweredOff = true;
    this.offUntilUs = this.nowUs + Math.max(1, offMs) * 1000;
    this.toMcu = [];
  }

  pressButton(): void {
    if (!this.mcuPoweredOff) this.mcu.pressButton(this.nowUs);
  }

  releaseButton(): void {
    if (!this.mcuPoweredOff) this.mcu.releaseButton();
  }

  /** The MCU's frames are lost for `ms` (a flaky cable: it still hears the host). */
  silence(ms: number): void {
    this.silentUntilUs = this.nowUs + ms * 1000;
    this.toHost = [];
  }

  /** Pulls the cable for `ms`: the port vanishes, nothing passes, opening fails; then plugged back. */
  async unplug(ms: number): Promise<void> {
    this.unplugged = true;
    this.toHost = [];
    this.toMcu = [];
    this.port?.vanish();
    await this.step(ms);
    this.unplugged = false;
  }

  ackFault(f: AckFault): void {
    this.ackFaults.push(f);
  }

  /** Corrupts the next STATE the MCU sends (a sensor or firmware bug). */
  corruptState(kind: 'nan-velocity' | 'absurd-velocity' | 'nan-current' | 'position-jump'): void {
    this.corruptNext = (s) => {
      if (kind === 'nan-velocity') s.velocity[0] = Number.NaN;
      else if (kind === 'absurd-velocity') s.velocity[1] = 1e12;
      else if (kind === 'nan-current') s.current[0] = Number.NaN;
      else s.position[0] = (s.position[0] as number) + 100_000;
    };
  }

  // ---- the brain and the estimator-side stop sources ------------------------------------------

  /** A plan valid for `ms` from now (0 or less: one that has already lapsed). */
  plan(ms: number): void {
    if (ms > 0) this.plans.push(this.nextOrd());
    this.planUntilUs = this.nowUs + ms * 1000;
    this.supervisor.planReceived(this.planUntilUs);
  }

  /** The decoder produces non-finite actions for the next `ticks` ticks (a malformed plan). */
  badActions(ticks: number): void {
    this.badTargetTicks = ticks;
  }

  /** Runs `fn`, a stop request, and records it with the supervisor's stop events during it. */
  requestStop(what: string, expect: StopRequest['expect'], fn: () => void): StopRequest {
    const before = this.stopEvents.length;
    const ord = this.nextOrd();
    fn();
    const req: StopRequest = { ord, atUs: this.nowUs, what, expect, events: this.stopEvents.slice(before) };
    this.stopRequests.push(req);
    return req;
  }

  /** A fall, as the estimator reports it (the model's profile has no IMU to fall with). */
  fall(): StopRequest {
    return this.requestStop('fall', { cause: 'fall', source: { kind: 'estimator', id: 'tilt' } }, () => this.supervisor.fall('model: fall'));
  }

  /** The control worker died. */
  controlFailed(): StopRequest {
    return this.requestStop('control failed', { cause: 'control-failed', source: { kind: 'edge', id: 'control' } }, () => this.supervisor.controlFailed('model: worker died'));
  }

  // ---- MQTT commands -------------------------------------------------------------------------

  private id(): string {
    return `m${this.msgId++}`;
  }

  estop(scope: 'robot' | 'fleet', category: 0 | 1 | 2 | 'malformed', operator = 'olga'): StopRequest {
    const topic = scope === 'fleet' ? fleetTopics(FLEET).estop : robotTopics(FLEET, ROBOT).estop;
    const payload = category === 'malformed'
      ? new TextEncoder().encode('{"v":1,"kind":"estop","category":9')
      : encodePayload({ v: 1, kind: 'estop', id: this.id(), category, operator, at: this.wallMs() });
    if (scope === 'fleet') this.fleetLatchExpected = true;
    const expect = { cause: (scope === 'fleet' ? 'fleet-estop' : 'remote-estop') as SafetyCause, source: { kind: 'remote' as const, id: category === 'malformed' ? 'unknown' : operator } };
    return this.requestStop(`${scope} e-stop ${String(category)}`, expect, () => this.handler.handle(topic, payload, false));
  }

  releaseFleet(): void {
    this.fleetLatchExpected = false;
    this.handler.handle(fleetTopics(FLEET).estop, encodePayload({ v: 1, kind: 'release', id: this.id(), operator: 'olga', at: this.wallMs() }), true);
  }

  /** A reset message: from an operator, a viewer, malformed, retained, or stale. */
  reset(kind: 'operator' | 'viewer' | 'malformed' | 'retained' | 'stale'): void {
    this.resetMessages++;
    const sender = kind === 'viewer' ? 'vera' : 'olga';
    const topic = robotTopics(FLEET, ROBOT).resetBy(sender);
    const at = kind === 'stale' ? this.wallMs() - 120_000 : this.wallMs();
    const payload = kind === 'malformed'
      ? new TextEncoder().encode('{"v":1,"kind":"reset"}')
      : encodePayload({ v: 1, kind: 'reset', id: this.id(), operator: sender, at });
    this.handler.handle(topic, payload, kind === 'retained');
  }

  resume(kind: 'operator' | 'viewer' | 'retained'): void {
    this.resumeMessages++;
    const sender = kind === 'viewer' ? 'vera' : 'olga';
    const payload = encodePayload({ v: 1, kind: 'resume', id: this.id(), operator: sender, at: this.wallMs() });
    this.handler.handle(robotTopics(FLEET, ROBOT).resumeBy(sender), payload, kind === 'retained');
  }

  /** SIGTERM as the daemon handles it (stopOnWire): a category-1 stop through the supervisor, then
   * everything closes. */
  async shutdown(): Promise<void> {
    this.requestStop('shutdown', { cause: 'shutdown', source: { kind: 'edge', id: 'shutdown' } }, () => { this.supervisor.shutdown('SIGTERM'); });
    this.shutDown = true;
    await this.step(20);
    this.supervisor.dispose();
    await this.link.stop();
    await this.step(5);
  }
}

/** Lets promise callbacks queued by this step run (a reset's ACK resolving, a port opening). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 12; i++) await Promise.resolve();
}
