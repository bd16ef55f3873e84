/**
 * The simulated MCU: the C firmware core (firmware-shim/c: watchdog, e-stop latch, stop ramps,
 * limits, replies, codec) compiled to WebAssembly, wired to a simulated plant. This file is only
 * the board around the chip: it keeps the MCU's clock, runs the firmware's 1 kHz loop, hands it
 * the host's bytes and the drives' fault lines, applies its drive output to the plant, samples the
 * sensors when the firmware wants a STATE, and passes the frames it sends to `send`. Every rule
 * of SPEC.md §4 lives in the C core; nothing here decides what the robot may do.
 *
 * It is driven by `handleBytes(chunk, hostNowUs)` (bytes from the host) and `tick(hostNowUs)`
 * (time passing) and uses no real time, so a caller with a simulated clock gets the same frames
 * for the same inputs.
 *
 * Invariants:
 * - The firmware loop runs once per millisecond of MCU time (the MCU's crystal, see McuClock),
 *   at whole milliseconds from boot. A late wake replays every loop it missed, with the plant
 *   stepped to each loop's time first, so catching up gives the same physics, the same watchdog
 *   trip time and the same STATE frames as waking on time.
 * - The plant is stepped only forward: to each loop's time, and to the arrival time of host bytes
 *   (and of a button press), never to the time of a bare tick(); so the wake pattern of the caller
 *   does not change the physics or the frames.
 * - The plant runs what the core's drive output says, as a drive would: DISABLE removes power,
 *   HOLD holds where the joints are when it begins, POSITION/VELOCITY/CURRENT track the (already
 *   clamped) targets, RAMP_DOWN commands each joint's velocity at the start of the stop times
 *   the core's ramp scale.
 */
import {
  Capability, MAX_ENCODED_FRAME, MAX_JOINTS, MsgType, newMessage, msgTypeName, StateFlag,
  type CommandMsg, type DecoderCounters, type FrameErrorKind,
} from '../../proto/wire/index.js';
import {
  countsToRad, cpsToRadPerSec, newSensorReading, radPerSecToCps, radToCounts,
  type JointProfile, type Plant, type RobotProfile, type SensorReading,
} from '../../hardware/index.js';
import { McuClock } from './mcu-clock.js';
import { CoreEvent, DriveMode, instantiateMcuCore, OUT_CHANGED, STATE_DUE, type McuCoreExports } from './mcu-core-wasm.js';

/** Receives each encoded frame; `bytes` is reused after the call returns, so copy or write now. */
export type FrameSender = (bytes: Uint8Array, length: number) => void;

export interface McuHooks {
  /** A valid COMMAND arrived; `obeyed` is false when the core ignored it (latched, or motion
   * before CONFIG). */
  onCommand?(cmd: Readonly<CommandMsg>, obeyed: boolean): void;
  /** A stop was latched: from the host (source 0, `malformed` when its body was bad), the
   * button or a fault. A watchdog trip is reported by onWatchdog. */
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
  /** Valid COMMANDs ignored: latched, or motion before a CONFIG. */
  commandsIgnored: number;
  /** COMMANDs with a joint count other than the MCU's. */
  commandsRejected: number;
  /** Obeyed COMMANDs where at least one target was clamped to the limits. */
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

/** Largest backlog of STATE frames one tick emits; a longer stall skips (and counts) the rest
 * (the firmware loops themselves all run). */
export const MAX_CATCH_UP = 250;
/** The firmware's main loop period, MCU µs. */
export const MCU_LOOP_US = 1000;
const MAX_STATE_RATE_HZ = 1000;
/** Stop category of a drive fault and of the hardware button (SPEC.md §4: a fault stops as 1). */
const FAULT_STOP_CATEGORY = 1;
const BUTTON_STOP_CATEGORY = 0;
const TWO_POW_32 = 4294967296;

const RX_ERROR_KINDS: Record<number, FrameErrorKind> = { 2: 'cobs', 3: 'short', 4: 'oversized', 5: 'crc', 6: 'version', 7: 'unknown-type' };
const BODY_ERRORS = ['ok', 'length', 'joint count', 'flags', 'value out of range', 'not finite', 'limits', 'profile id', 'type', 'space', 'text'];
const HOST_TO_MCU: ReadonlySet<number> = new Set([
  MsgType.HELLO, MsgType.COMMAND, MsgType.HEARTBEAT, MsgType.ESTOP, MsgType.RESET, MsgType.TIME_SYNC_REQ, MsgType.CONFIG,
]);

export class Mcu {
  readonly profile: RobotProfile;
  readonly plant: Plant;
  readonly clock: McuClock;
  readonly jointCount: number;
  readonly counters: McuCounters;
  /** False makes the drives keep their faults when RESET asks them to clear: a fault that persists. */
  faultsClearable = true;

  private readonly core: McuCoreExports;
  private readonly send: FrameSender;
  private readonly hooks: McuHooks;
  private readonly stateFlags: number;
  private readonly reading: SensorReading;
  /** Views of the core's memory (it never grows, so they stay valid). */
  private readonly mem: Uint8Array;
  private readonly tx: Uint8Array;
  private readonly rx: Uint8Array;
  private readonly rxCounterView: Uint32Array;
  private readonly sPos: Int32Array;
  private readonly sVel: Float32Array;
  private readonly sCur: Float32Array;
  private readonly sAccel: Float32Array;
  private readonly sGyro: Float32Array;
  private readonly sQuat: Float32Array;
  private readonly oPos: Int32Array;
  private readonly oVel: Float32Array;
  private readonly oFf: Float32Array;
  private readonly cPos: Int32Array;
  private readonly cVel: Float32Array;
  private readonly cFf: Float32Array;
  private readonly lastCmd: CommandMsg = newMessage(MsgType.COMMAND);
  private hasLastCmd = false;
  /** Scratch vectors for plant commands, rad, rad/s, A. */
  private readonly pos: Float64Array;
  private readonly vel: Float64Array;
  private readonly ff: Float64Array;
  /** Joint velocities (rad/s) when the present controlled stop began. */
  private readonly rampV0: Float64Array;

  private booted = false;
  /** Calls into the core under way (0 or 1), and host bytes that arrived during one. */
  private depth = 0;
  private readonly deferred: { bytes: Uint8Array; hostUs: number }[] = [];
  private plantHostUs = 0;
  /** Unwrapped MCU µs of the next firmware loop. */
  private nextLoopMcuUs = 0;
  private appliedMode = -1;
  private appliedScale = 0;
  private lastFaults = 0;
  private lastFaultMask = 0;

  constructor(opts: McuOptions) {
    this.profile = opts.profile;
    this.plant = opts.plant;
    this.send = opts.send;
    this.hooks = opts.hooks ?? {};
    this.clock = new McuClock(opts.clockOffsetUs, opts.driftPpm);
    const n = opts.profile.joints.length;
    if (n > MAX_JOINTS) throw new RangeError(`Mcu: profile ${opts.profile.id} has ${n} joints, the wire allows ${MAX_JOINTS}`);
    this.jointCount = n;
    const rate = checkRate(opts.stateRateHz ?? opts.profile.serial.stateRateHz);
    const imu = opts.profile.imu;
    this.stateFlags = (imu ? StateFlag.IMU : 0) | (imu?.fusedOrientation ? StateFlag.ORIENTATION : 0);
    this.reading = newSensorReading(n);
    this.pos = new Float64Array(n);
    this.vel = new Float64Array(n);
    this.ff = new Float64Array(n);
    this.rampV0 = new Float64Array(n);
    this.counters = {
      received: {}, bodyErrors: {}, unexpected: {},
      commandsObeyed: 0, commandsIgnored: 0, commandsRejected: 0, commandsClamped: 0,
      stateSent: 0, stateSkipped: 0, framesSent: 0, estops: 0, watchdogTrips: 0, resetsAccepted: 0, resetsRefused: 0,
    };

    const core = instantiateMcuCore({
      frameOut: (len) => {
        this.counters.framesSent++;
        this.send(this.tx, len);
      },
      event: (kind, msgType, result, category, source, reason, flag) => this.onEvent(kind, msgType, result, category, source, reason, flag),
      resetFaults: () => this.resetDriveFaults(),
    });
    this.core = core;
    const buf = core.memory.buffer;
    this.mem = new Uint8Array(buf);
    this.tx = new Uint8Array(buf, core.sw_tx_ptr(), MAX_ENCODED_FRAME);
    this.rx = new Uint8Array(buf, core.sw_rx_ptr(), core.sw_rx_capacity());
    this.rxCounterView = new Uint32Array(buf, core.sw_rx_counters_ptr(), 12);
    this.sPos = new Int32Array(buf, core.sw_state_position_ptr(), n);
    this.sVel = new Float32Array(buf, core.sw_state_velocity_ptr(), n);
    this.sCur = new Float32Array(buf, core.sw_state_current_ptr(), n);
    this.sAccel = new Float32Array(buf, core.sw_state_accel_ptr(), 3);
    this.sGyro = new Float32Array(buf, core.sw_state_gyro_ptr(), 3);
    this.sQuat = new Float32Array(buf, core.sw_state_quat_ptr(), 4);
    this.oPos = new Int32Array(buf, core.sw_out_position_ptr(), n);
    this.oVel = new Float32Array(buf, core.sw_out_velocity_ptr(), n);
    this.oFf = new Float32Array(buf, core.sw_out_feedforward_ptr(), n);
    this.cPos = new Int32Array(buf, core.sw_cmd_position_ptr(), n);
    this.cVel = new Float32Array(buf, core.sw_cmd_velocity_ptr(), n);
    this.cFf = new Float32Array(buf, core.sw_cmd_feedforward_ptr(), n);

    // The firmware build for this robot: its watchdog default, STATE rate, stop ramp, own limits.
    core.sw_configure(n, opts.profile.serial.watchdogMs, rate, stopRampUs(opts.profile), FAULT_STOP_CATEGORY, BUTTON_STOP_CATEGORY);
    const fw = opts.profile.firmware;
    const caps = (imu ? Capability.IMU : 0) | (imu?.fusedOrientation ? Capability.FUSED_ORIENTATION : 0)
      | Capability.CURRENT_SENSE | Capability.VELOCITY_MODE | Capability.CURRENT_MODE | Capability.TIME_SYNC
      | (opts.hardwareEstop ? Capability.HARDWARE_ESTOP : 0);
    core.sw_set_hello(fw.major, fw.minor, fw.patch, caps >>> 0, (opts.deviceId ?? 0x5ea1b07) >>> 0);
    const id = Buffer.from(opts.profile.id, 'ascii');
    this.mem.set(id.subarray(0, 24), core.sw_profile_id_ptr());
    this.mem[core.sw_profile_id_ptr() + Math.min(id.length, 24)] = 0;
    opts.profile.joints.forEach((joint, j) => {
      const lim = hardLimits(joint);
      core.sw_set_hard_limit(j, lim.posMin, lim.posMax, lim.velMax, lim.currentMax);
    });
  }

  // ---- state accessors -------------------------------------------------------------------

  get isEstopLatched(): boolean { return (this.core.sw_status() & 0x01) !== 0; }
  get isWatchdogTripped(): boolean { return (this.core.sw_status() & 0x02) !== 0; }
  get motorsEnabled(): boolean { return (this.core.sw_status() & 0x04) !== 0; }
  get isConfigured(): boolean { return (this.core.sw_status() & 0x08) !== 0; }
  get isStopping(): boolean { return (this.core.sw_status() & 0x10) !== 0; }
  get isHostSeen(): boolean { return (this.core.sw_status() & 0x20) !== 0; }
  get currentStateRateHz(): number { return this.core.sw_state_rate_hz(); }
  get currentWatchdogMs(): number { return this.core.sw_watchdog_ms(); }
  /** The last valid COMMAND received (obeyed or not), or null. Live object: copy to keep it. */
  get lastCommand(): Readonly<CommandMsg> | null { return this.hasLastCmd ? this.lastCmd : null; }
  /** Receive-side decoder counters (CRC errors, resyncs, ...), read from the C decoder. */
  get rxCounters(): DecoderCounters {
    const c = this.rxCounterView;
    return {
      bytes: c[0] as number, frames: c[1] as number, resyncs: c[2] as number, discardedBytes: c[3] as number,
      cobsErrors: c[4] as number, tooShort: c[5] as number, oversized: c[6] as number, crcErrors: c[7] as number,
      badVersion: c[8] as number, unknownType: c[9] as number, seqLost: c[10] as number, seqRewinds: c[11] as number,
    };
  }

  /** The MCU's wire time_us at host time `hostUs`: the ground truth for time-sync tests. */
  mcuTimeAt(hostUs: number): number {
    return this.clock.wireTimeAt(hostUs);
  }

  /** STATE.status as it would be sent now. */
  statusBits(): number {
    return this.core.sw_status();
  }

  // ---- driving ---------------------------------------------------------------------------

  /** Power-on: plant time origin, first loop (and first STATE) now, HELLO sent. Call once, before the rest. */
  boot(hostNowUs: number): void {
    if (this.depth > 0) throw new Error('Mcu: boot() called from inside send or a hook');
    this.booted = true;
    this.plantHostUs = hostNowUs;
    this.nextLoopMcuUs = Math.floor(this.clock.unwrapped(hostNowUs));
    this.plant.setCommand('disable', this.pos, this.vel, this.ff);
    this.appliedMode = DriveMode.DISABLE;
    this.core.sw_boot(wire(this.nextLoopMcuUs), this.stateFlags);
  }

  /** Advances to `hostNowUs`, running every firmware loop due by then. The plant is left at the
   * last loop's time (less than 1 ms behind), so how often tick() is called changes nothing. */
  tick(hostNowUs: number): void {
    this.enter('tick');
    try {
      this.runLoopsUntil(hostNowUs);
    } finally {
      this.leave();
    }
  }

  /**
   * Bytes from the host, arrived at `hostNowUs` (also the time_sync t1 of a request in them).
   * Called from inside `send` or a hook (a host that answers at once), the bytes are copied and
   * taken when the present call into the firmware returns, as a UART's receive buffer would.
   */
  handleBytes(chunk: Uint8Array, hostNowUs: number): void {
    if (this.depth > 0) {
      this.deferred.push({ bytes: chunk.slice(), hostUs: hostNowUs });
      return;
    }
    this.enter('handleBytes');
    try {
      this.runLoopsUntil(hostNowUs);
      this.stepPlantTo(hostNowUs);
      const t = this.mcuTimeAt(Math.max(hostNowUs, this.plantHostUs));
      const cap = this.rx.length;
      for (let off = 0; off < chunk.length; off += cap) {
        const len = Math.min(cap, chunk.length - off);
        this.rx.set(off === 0 && len === chunk.length ? chunk : chunk.subarray(off, off + len));
        if (this.core.sw_receive(len, t, t) & OUT_CHANGED) this.applyOutput();
      }
    } finally {
      this.leave();
    }
  }

  /** The hardware e-stop button (only with `hardwareEstop`): pressing latches a category 0 stop. */
  pressButton(hostNowUs: number): void {
    this.enter('pressButton');
    try {
      this.runLoopsUntil(hostNowUs);
      this.stepPlantTo(hostNowUs);
      if (this.core.sw_set_button(1, this.mcuTimeAt(this.plantHostUs)) & OUT_CHANGED) this.applyOutput();
    } finally {
      this.leave();
    }
  }
  releaseButton(): void {
    this.enter('releaseButton');
    try {
      if (this.core.sw_set_button(0, this.mcuTimeAt(this.plantHostUs)) & OUT_CHANGED) this.applyOutput();
    } finally {
      this.leave();
    }
  }

  // ---- the board -------------------------------------------------------------------------

  private requireBooted(): void {
    if (!this.booted) throw new Error('Mcu: boot() must be called first');
  }

  /** The core is one C program with static state: one call into it at a time. */
  private enter(what: string): void {
    this.requireBooted();
    if (this.depth > 0) throw new Error(`Mcu: ${what}() called from inside send or a hook; only handleBytes may be (its bytes are taken after the present call)`);
    this.depth++;
  }

  private leave(): void {
    this.depth--;
    while (this.depth === 0 && this.deferred.length > 0) {
      const d = this.deferred.shift() as { bytes: Uint8Array; hostUs: number };
      this.handleBytes(d.bytes, d.hostUs);
    }
  }

  /** Runs each firmware loop due by `hostUs`: plant to the loop's time, fault lines, core tick,
   * STATE when the core says one is due. */
  private runLoopsUntil(hostUs: number): void {
    const mcuNow = this.clock.unwrapped(hostUs);
    let emitted = 0;
    while (this.nextLoopMcuUs <= mcuNow) {
      const loopMcuUs = this.nextLoopMcuUs;
      this.nextLoopMcuUs += MCU_LOOP_US;
      this.stepPlantTo(this.clock.hostAt(loopMcuUs));
      const t = wire(loopMcuUs);
      this.pollFaults(t);
      const r = this.core.sw_tick(t);
      if (r & OUT_CHANGED) this.applyOutput();
      if (r & STATE_DUE) {
        if (emitted === MAX_CATCH_UP) {
          this.counters.stateSkipped++;
        } else {
          this.sendState();
          emitted++;
        }
      }
    }
  }

  private stepPlantTo(hostUs: number): void {
    const dt = hostUs - this.plantHostUs;
    if (dt <= 0) return;
    this.plant.step(dt * 1e-6);
    this.plantHostUs = hostUs;
  }

  /** The drives' fault lines: a change goes to the core, which latches a stop on a new fault. */
  private pollFaults(t: number): void {
    const fb = this.plant.faultBits();
    if (fb.faults === this.lastFaults && fb.jointFaultMask === this.lastFaultMask) return;
    this.lastFaults = fb.faults;
    this.lastFaultMask = fb.jointFaultMask;
    if (this.core.sw_set_faults(fb.faults & 0xffff, fb.jointFaultMask >>> 0, t) & OUT_CHANGED) this.applyOutput();
  }

  /** RESET bit 1, from the core: the drives clear what they can. */
  private resetDriveFaults(): number {
    if (this.faultsClearable) this.plant.clearFaults();
    const fb = this.plant.faultBits();
    this.lastFaults = fb.faults;
    this.lastFaultMask = fb.jointFaultMask;
    return fb.faults & 0xffff;
  }

  /** Makes the plant's drives do what the core's output says. */
  private applyOutput(): void {
    const core = this.core;
    const mode = core.sw_out_enabled() ? core.sw_out_mode() : DriveMode.DISABLE;
    const joints = this.profile.joints;
    switch (mode) {
      case DriveMode.DISABLE:
        if (this.plant.mode !== 'disable') this.plant.setCommand('disable', this.pos, this.vel, this.ff);
        break;
      case DriveMode.HOLD:
        if (this.plant.mode !== 'hold') this.plant.setCommand('hold', this.pos, this.vel, this.ff);
        break;
      case DriveMode.RAMP_DOWN: {
        const scale = core.sw_out_ramp_scale();
        // A new stop (or a harder one restarting the ramp) starts from the joints' velocity now.
        if (this.appliedMode !== DriveMode.RAMP_DOWN || scale > this.appliedScale) this.rampV0.set(this.plant.truth.qd);
        this.appliedScale = scale;
        const q = this.plant.truth.q;
        for (let j = 0; j < this.jointCount; j++) {
          this.pos[j] = q[j] as number;
          this.vel[j] = (this.rampV0[j] as number) * scale;
          this.ff[j] = 0;
        }
        this.plant.setCommand('velocity', this.pos, this.vel, this.ff);
        break;
      }
      default: {
        for (let j = 0; j < this.jointCount; j++) {
          const joint = joints[j] as JointProfile;
          this.pos[j] = countsToRad(joint, this.oPos[j] as number);
          this.vel[j] = cpsToRadPerSec(joint, this.oVel[j] as number);
          this.ff[j] = this.oFf[j] as number;
        }
        this.plant.setCommand(mode === DriveMode.POSITION ? 'position' : mode === DriveMode.VELOCITY ? 'velocity' : 'current', this.pos, this.vel, this.ff);
      }
    }
    this.appliedMode = mode;
  }

  /** One STATE from the plant's sensors at the present plant time. Allocation-free. */
  private sendState(): void {
    const r = this.reading;
    this.plant.sense(r);
    this.sPos.set(r.encoderCounts);
    this.sVel.set(r.velocityCps);
    this.sCur.set(r.currentA);
    if (this.stateFlags & StateFlag.IMU) { this.sAccel.set(r.accel); this.sGyro.set(r.gyro); }
    if (this.stateFlags & StateFlag.ORIENTATION) this.sQuat.set(r.quat);
    this.core.sw_state_set_imu_sample(this.stateFlags & StateFlag.IMU ? r.imuSample : 0);
    this.core.sw_send_state();
    this.counters.stateSent++;
  }

  private onEvent(kind: number, msgType: number, result: number, category: number, source: number, reason: number, flag: number): void {
    const c = this.counters;
    switch (kind) {
      case CoreEvent.FRAME:
        count(HOST_TO_MCU.has(msgType) ? c.received : c.unexpected, msgTypeName(msgType));
        return;
      case CoreEvent.RX_ERROR:
        this.hooks.onFrameError?.(RX_ERROR_KINDS[msgType] ?? 'cobs', `segment discarded (${RX_ERROR_KINDS[msgType] ?? msgType})`);
        return;
      case CoreEvent.BODY_ERROR:
        count(c.bodyErrors, msgTypeName(msgType));
        this.hooks.onFrameError?.('body', `${msgTypeName(msgType)} body refused: ${BODY_ERRORS[result] ?? result}`);
        return;
      case CoreEvent.COMMAND:
        if (result === 2) {
          c.commandsRejected++;
          this.hooks.onFrameError?.('body', `COMMAND joint count differs from this MCU's ${this.jointCount} joints`);
          return;
        }
        this.copyLastCommand();
        if (result === 1) {
          c.commandsObeyed++;
          if (flag) c.commandsClamped++;
        } else {
          c.commandsIgnored++;
        }
        this.hooks.onCommand?.(this.lastCmd, result === 1);
        return;
      case CoreEvent.STOP:
        c.estops++;
        this.hooks.onEstop?.(category, source, reason, flag !== 0);
        return;
      case CoreEvent.WATCHDOG:
        c.watchdogTrips++;
        this.hooks.onWatchdog?.();
        return;
      case CoreEvent.RESET:
        if (result === 0) c.resetsAccepted++;
        else c.resetsRefused++;
        return;
      default:
    }
  }

  private copyLastCommand(): void {
    const m = this.lastCmd;
    m.jointCount = this.core.sw_cmd_joint_count();
    m.mode = this.core.sw_cmd_mode();
    for (let j = 0; j < MAX_JOINTS; j++) {
      const inRange = j < this.jointCount;
      m.position[j] = inRange ? this.cPos[j] as number : 0;
      m.velocity[j] = inRange ? this.cVel[j] as number : 0;
      m.feedforward[j] = inRange ? this.cFf[j] as number : 0;
    }
    this.hasLastCmd = true;
  }
}

/** The firmware's own joint bounds (the C core intersects every CONFIG with them), in wire units:
 * the profile's limits as counts, ordered; a single-turn arc across the encoder's wrap has no
 * ordered pair, so that joint's position bound is the sensor's whole range. */
export function hardLimits(joint: JointProfile): { posMin: number; posMax: number; velMax: number; currentMax: number } {
  const a = radToCounts(joint, joint.limits.positionMin);
  const b = radToCounts(joint, joint.limits.positionMax);
  let posMin = Math.min(a, b), posMax = Math.max(a, b);
  const [lo, hi] = joint.encoder.direction > 0 ? [a, b] : [b, a];
  if (joint.encoder.singleTurn && lo > hi) { posMin = 0; posMax = joint.encoder.countsPerRev - 1; }
  posMin = Math.max(-0x8000_0000, posMin);
  posMax = Math.min(0x7fff_ffff, posMax);
  return { posMin, posMax, velMax: Math.fround(Math.abs(radPerSecToCps(joint, joint.limits.velocityMax))), currentMax: Math.fround(joint.limits.currentMax) };
}

/**
 * Length of the core's controlled stop for this robot, µs: long enough that every joint, from its
 * top speed, decelerates within its acceleration limit (the core scales velocities down linearly),
 * plus time for the servo to settle (4 time constants of its loop) before power goes off or hold
 * takes over, so the joints are at rest when the stop completes.
 */
export function stopRampUs(profile: RobotProfile): number {
  let longest = 0;
  for (const joint of profile.joints) {
    const settleS = 4 / (2 * Math.PI * joint.servo.naturalFrequencyHz * joint.servo.dampingRatio);
    longest = Math.max(longest, joint.limits.velocityMax / joint.limits.accelerationMax + settleS);
  }
  return Math.ceil(longest * 1e6);
}

function wire(mcuUs: number): number {
  const t = Math.floor(mcuUs) % TWO_POW_32;
  return t < 0 ? t + TWO_POW_32 : t;
}
function checkRate(hz: number): number {
  if (!Number.isInteger(hz) || hz < 1 || hz > MAX_STATE_RATE_HZ) throw new RangeError(`Mcu: stateRateHz=${hz} must be an integer in 1..${MAX_STATE_RATE_HZ}`);
  return hz;
}
function count(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}
