/**
 * The safety supervisor: the last software authority over motion. It folds every stop source into
 * one guarded state machine (safety-state.ts), puts ESTOP frames on the wire, latches, and lets
 * the robot move again only after an authorised reset while safe, a plan received after that
 * reset, and an explicit resume. Every transition is logged and emitted
 * as a typed `transition` event (for MQTT).
 *
 * Invariants:
 * - `latchedCause` is non-null iff the state is ESTOP or FAULT.
 * - `latchGeneration` counts stop requests (every one, also those that arrive while latched); a
 *   reset clears the latch only when no stop was requested after its RESET went on the wire, so a
 *   reset never clears a stop requested after it was sent.
 * - The MCU's latch flags in STATE are the truth: with the link READY and no reset in flight, a
 *   latched MCU puts the host in ESTOP, and a latched host whose MCU shows clear puts ESTOP on
 *   the wire again (re-latch), so once the line is quiet the host's latch equals the MCU's.
 *   `mcuLatch` says what the host last saw, 'unknown' when it has not seen a STATE since the link
 *   (re)connected or the MCU restarted.
 * - `commandEpoch` changes whenever the last command sent stops being a valid reference for the
 *   next one (a latch, the link lost, the MCU restarted): the command gate re-seeds its limiter
 *   from the measured position then, so nothing snaps back to an old target.
 * - `planFresh()` is true only for a plan received after the latest latch (estop or fault) and
 *   still inside its validity; resume() needs it.
 * - A HOLD whose cause is an MCU restart, an impossible STATE value or a tilt warning ends only by
 *   an operator's resume (a new plan does not end it), and a later such cause replaces a weaker one.
 * - The plan TTL timer exists iff a plan is held; the dead-man timer iff the dead-man is enabled
 *   and an operator heartbeat has been seen.
 * Reads time only through the injected Clock.
 */
import { EventEmitter } from 'node:events';
import { AckResult, EstopReason, EstopSource, ResetWhat, Status, StopCategory, type EstopMsg } from '../../proto/wire/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { SafetyState, SafetyStateMachine } from './safety-state.js';
import type {
  McuLatch, OperatorIdentity, RefusalEvent, RemoteEstopInput, SafetyActuator, SafetyCause, SafetyLogger, SafetySource,
  SafetySupervisorEvents, SafetySupervisorOptions, StopCategories,
} from './safety-types.js';

const S = SafetyState;
const MOVING_OR_READY: SafetyState[] = [S.BOOT, S.IDLE, S.ACTIVE, S.HOLD];
const NOT_ESTOP: SafetyState[] = [S.BOOT, S.IDLE, S.ACTIVE, S.HOLD, S.FAULT];

/** HOLD causes that a new plan clears by itself (the others need resume()). */
const PLAN_CLEARED_HOLDS: ReadonlySet<SafetyCause> = new Set(['plan-expired', 'decoder-failed', 'bad-numbers', 'chunk-exhausted']);

/** STATE bits that mean the MCU is latched (motion inhibited until RESET). */
const MCU_LATCH_BITS = Status.ESTOP_LATCHED | Status.WATCHDOG_TRIPPED;

/** A latched host whose MCU shows clear sends ESTOP again at most this often (µs). */
const RELATCH_INTERVAL_US = 100_000;

const silent: SafetyLogger = { info() {}, warn() {}, error() {} };
const EDGE: SafetySource = { kind: 'edge', id: 'supervisor' };

export function defaultAuthorise(op: OperatorIdentity): boolean {
  return op.id.length > 0 && (op.role === 'operator' || op.role === 'admin');
}

export class SafetySupervisor extends EventEmitter<SafetySupervisorEvents> {
  private readonly sm: SafetyStateMachine;
  private readonly authorise: (op: OperatorIdentity) => boolean;
  private readonly deadmanUs: number;
  private readonly cats: StopCategories;
  private readonly log: SafetyLogger;

  private pendingCause: SafetyCause = 'link-ready';
  private pendingSource: SafetySource = EDGE;
  private pendingDetail = '';
  private holdCause: SafetyCause | null = null;
  private latched: SafetyCause | null = null;

  private linkUp = false;
  private fallen = false;
  private mcuStatusBits = 0;
  private mcuFaultBits = 0;
  private planSeq = 0;
  private latchPlanSeq = 0;
  private planValidUntilUs = Number.NEGATIVE_INFINITY;
  private planTimer: TimerHandle | null = null;
  private lastHeartbeatUs = Number.NaN;
  private deadmanTimer: TimerHandle | null = null;
  private resetInFlight = false;
  private resetToken = 1;
  private latchGen = 0;
  private activeSince = Number.NaN;
  /** The cause of the latest stop request (for a refused reset's message). */
  private lastStopCause: SafetyCause | null = null;
  private epoch = 0;
  private mcuLatchSeen: McuLatch = 'unknown';
  /** When an ESTOP last went on the wire (or was put there for us): a STATE showing the MCU clear
   * is only acted on RELATCH_INTERVAL_US later, since STATEs sampled before the MCU took the ESTOP
   * are still on the line when it goes out. */
  private relatchAtUs = Number.NEGATIVE_INFINITY;
  /** The hardest category sent since the last reset: a re-latch repeats it, never a milder one. */
  private latchCategory: number = StopCategory.CAT2;
  /** Impossible STATE values the estimator reports now, by condition (kind and joint). */
  private readonly impossible = new Map<string, string>();

  constructor(private readonly actuator: SafetyActuator, private readonly clock: Clock, opts: SafetySupervisorOptions = {}) {
    super();
    this.authorise = opts.authorise ?? defaultAuthorise;
    this.deadmanUs = (opts.deadmanTimeoutMs ?? 0) * 1000;
    this.cats = { fall: 1, deadman: 1, linkLost: 1, mcuFault: 1, mqttLink: 2, ...opts.categories };
    this.log = opts.logger ?? silent;
    this.sm = new SafetyStateMachine((from, to) => {
      const ev = { from, to, cause: this.pendingCause, source: this.pendingSource, at: this.clock.nowUs(), detail: this.pendingDetail };
      const level = to === S.ESTOP || to === S.FAULT ? 'warn' : 'info';
      this.log[level](ev, 'safety transition');
      this.emit('transition', ev);
    });
  }

  get state(): SafetyState {
    return this.sm.state;
  }

  /** True only in ACTIVE: the one state in which motion commands may reach the wire. */
  get motionAllowed(): boolean {
    return this.sm.state === S.ACTIVE;
  }

  /** What latched ESTOP or FAULT; null otherwise. */
  get latchedCause(): SafetyCause | null {
    return this.latched;
  }

  /** Why the robot is in HOLD; null otherwise. */
  get holdReason(): SafetyCause | null {
    return this.sm.state === S.HOLD ? this.holdCause : null;
  }

  /** Stop requests so far (each one, also while latched); see the invariants. */
  get latchGeneration(): number {
    return this.latchGen;
  }

  /** Changes whenever the last command sent is no longer a reference for the next one. */
  get commandEpoch(): number {
    return this.epoch;
  }

  /** A new command epoch, told to whoever mirrors it (the tick thread's gate, via the control loop). */
  private bumpEpoch(): void {
    this.epoch++;
    this.emit('command-epoch', this.epoch);
  }

  /** The MCU's latch as last seen in STATE; 'unknown' when not seen since the link or the MCU restarted. */
  get mcuLatch(): McuLatch {
    return this.mcuLatchSeen;
  }

  /** µs (supervisor clock) when the state last became ACTIVE; NaN before. */
  get activeSinceUs(): number {
    return this.activeSince;
  }

  /** True while a RESET is on the wire and its ACK not yet handled. */
  get resetPending(): boolean {
    return this.resetInFlight;
  }

  /** What stands in the way of a reset (empty: safe). */
  unsafeReasons(): string[] {
    const r: string[] = [];
    if (!this.linkUp) r.push('serial link down');
    if (this.fallen) r.push('robot fallen');
    if (this.mcuFaultBits !== 0) r.push(`MCU faults 0x${this.mcuFaultBits.toString(16)}`);
    if (this.deadmanUs > 0 && !this.deadmanAlive()) r.push('operator dead-man heartbeat silent');
    return r;
  }

  /** A plan received after the latest latch and still valid. */
  planFresh(): boolean {
    return this.planSeq > this.latchPlanSeq && this.clock.nowUs() < this.planValidUntilUs;
  }

  // ---- stop sources ---------------------------------------------------------------------------

  /** The serial link reached READY (BOOT → IDLE the first time). */
  linkReady(): void {
    this.linkUp = true;
    if (this.sm.is(S.BOOT)) this.move([S.BOOT], S.IDLE, 'link-ready', { kind: 'mcu', id: 'link' }, 'serial link ready');
  }

  /** The link is gone (or refused the MCU): the link put a last ESTOP on the wire before closing,
   * and the MCU watchdog stops the robot and latches. Before the first READY (BOOT) it only marks
   * the link down. */
  linkLost(reason: string): void {
    this.linkUp = false;
    this.bumpEpoch();
    this.setMcuLatch('unknown', `serial link lost: ${reason}`);
    if (this.sm.is(S.BOOT)) return; // never ready: nothing moved, nothing to latch
    this.stop('link-lost', { kind: 'edge', id: 'serial' }, this.cats.linkLost, EstopSource.HOST, 0, reason, false);
  }

  /**
   * The remote e-stop channel (the MQTT connection) has been down for longer than its timeout: an
   * operator's e-stop could not arrive. Latches ESTOP (a reset is needed, as after any e-stop) from
   * ACTIVE or HOLD, where the robot moves or may move again without an operator (HOLD resumes on a
   * new plan). In BOOT and IDLE nothing moves and only a live MQTT resume can start motion, so the
   * loss stops nothing there; in ESTOP and FAULT it is recorded as a further stop.
   */
  mqttLinkLost(detail: string): void {
    if (this.sm.is(S.BOOT, S.IDLE)) return;
    this.stop('mqtt-link-lost', { kind: 'edge', id: 'mqtt-link' }, this.cats.mqttLink, EstopSource.HOST, EstopReason.MQTT_LINK, detail, true);
  }

  /**
   * The MCU restarted while the link was READY (a new HELLO; it may have rebooted faster than the
   * link timeout): it forgot its configuration and its latch, and the drives may be off. Counts as
   * losing the MCU: motion stops (HOLD, which only an operator's resume ends; a STATE showing the
   * MCU latched then makes it ESTOP), and the command reference is dropped, so the first command
   * after the resume starts from the measured position.
   */
  mcuRestarted(detail: string): void {
    this.bumpEpoch();
    this.setMcuLatch('unknown', detail);
    const source: SafetySource = { kind: 'mcu', id: 'restart' };
    if (this.sm.is(S.ACTIVE)) this.hold('mcu-restarted', source, detail);
    else if (this.sm.is(S.HOLD)) this.upgradeHold('mcu-restarted', source, detail);
  }

  /** The serial link changed state or refused the MCU: reported as a `link` event. */
  linkChanged(from: string, to: string, detail: string): void {
    this.emit('link', { from, to, detail, at: this.clock.nowUs() });
  }

  /**
   * The estimator found a STATE value no sensor can produce (NaN, an absurd velocity, a position
   * jump, a broken quaternion), keyed by condition. Motion stops (HOLD that needs a resume), and
   * resume() is refused until sensorRecovered() for every key.
   */
  impossibleState(key: string, detail: string): void {
    this.impossible.set(key, detail);
    const source: SafetySource = { kind: 'estimator', id: key };
    if (this.sm.is(S.ACTIVE)) this.hold('impossible-state', source, detail);
    else if (this.sm.is(S.HOLD)) this.upgradeHold('impossible-state', source, detail);
  }

  /** The condition `key` reported by impossibleState() has cleared. */
  sensorRecovered(key: string): void {
    this.impossible.delete(key);
  }

  /** An e-stop from MQTT (or any remote device). Malformed → category 0 (fail safe). */
  remoteEstop(input: RemoteEstopInput): void {
    const valid = !input.malformed && Number.isInteger(input.category) && input.category >= 0 && input.category <= 2;
    const cat = valid ? input.category : StopCategory.CAT0;
    const reason = !valid ? EstopReason.MALFORMED_ESTOP : input.scope === 'fleet' ? EstopReason.FLEET : EstopReason.REMOTE;
    const cause: SafetyCause = input.scope === 'fleet' ? 'fleet-estop' : 'remote-estop';
    const detail = input.malformed ? `malformed ${input.scope} e-stop: stopping as category 0` : `${input.scope} e-stop category ${input.category}`;
    this.stop(cause, { kind: 'remote', id: input.operator ?? 'unknown' }, cat, EstopSource.REMOTE, reason, detail, true, input.onWire);
  }

  /**
   * The daemon is shutting down (SIGTERM): a category-1 ESTOP on the wire, latched like any stop,
   * so a RESET in flight cannot clear it and nothing after it moves. Returns whether the ESTOP
   * reached the wire.
   */
  shutdown(detail = 'shutting down'): boolean {
    const onWire = this.actuator.sendEstop(StopCategory.CAT1, EstopSource.HOST, EstopReason.NONE);
    this.stop('shutdown', { kind: 'edge', id: 'shutdown' }, StopCategory.CAT1, EstopSource.HOST, EstopReason.NONE, detail, true, onWire);
    return onWire;
  }

  /** The MCU latched a stop of its own (button, watchdog, fault, or a malformed host ESTOP). */
  mcuEstop(msg: EstopMsg): void {
    this.stop('mcu-estop', { kind: 'mcu', id: `source ${msg.source}` }, msg.category, msg.source, msg.reason,
      `MCU e-stop: category ${msg.category}, source ${msg.source}, reason ${msg.reason}`, false);
  }

  /**
   * STATE.status and STATE.faults, per sample (cheap: compares, acts on disagreement only). The
   * MCU's latch flags are the truth: a latch the host does not hold stops (ESTOP, also when no
   * ESTOP frame was seen); a host latch the MCU does not show is put on the wire again (at most
   * every RELATCH_INTERVAL_US), except while a RESET is in flight. New fault bits → FAULT.
   */
  mcuStatus(status: number, faults: number): void {
    const mcuLatched = (status & MCU_LATCH_BITS) !== 0;
    const newFaults = faults & ~this.mcuFaultBits;
    this.mcuStatusBits = status;
    this.mcuFaultBits = faults;
    const latch = mcuLatched ? 'latched' : 'clear';
    // The detail string only when the latch changes: this runs per STATE sample (1 kHz).
    if (latch !== this.mcuLatchSeen) this.setMcuLatch(latch, `MCU status 0x${status.toString(16)}`);
    if (newFaults !== 0 && !this.sm.is(S.ESTOP, S.FAULT)) {
      this.latch('mcu-fault', S.FAULT, { kind: 'mcu', id: 'faults' }, `MCU fault bits 0x${faults.toString(16)}`);
      this.sendEstop(this.cats.mcuFault, EstopSource.HOST, EstopReason.MCU_FAULT, 'mcu-fault');
    } else if (newFaults !== 0) {
      this.recordWhileLatched('mcu-fault', { kind: 'mcu', id: 'faults' });
    } else if (mcuLatched && !this.sm.is(S.ESTOP, S.FAULT)) {
      this.stop('mcu-estop', { kind: 'mcu', id: 'status' }, StopCategory.CAT1, EstopSource.MCU_FAULT, 0, `MCU status 0x${status.toString(16)} shows a latch`, false);
    } else if (!mcuLatched && this.sm.is(S.ESTOP, S.FAULT) && !this.resetInFlight) {
      const now = this.clock.nowUs();
      if (now - this.relatchAtUs >= RELATCH_INTERVAL_US) {
        this.relatchAtUs = now;
        this.log.warn({ status, latched: this.latched }, 'host is latched but the MCU shows clear: ESTOP sent again');
        this.sendEstop(this.latchCategory, EstopSource.HOST, EstopReason.RELATCH, this.latched ?? 'mcu-estop');
      }
    }
  }

  /** The estimator detected a fall. */
  fall(detail = 'fall detected'): void {
    this.fallen = true;
    this.stop('fall', { kind: 'estimator', id: 'tilt' }, this.cats.fall, EstopSource.HOST, EstopReason.FALL, detail, true);
  }

  /** Tilt above the warning threshold: stop moving (HOLD), keep power. */
  tiltWarning(detail = 'tilt warning'): void {
    if (this.sm.is(S.ACTIVE)) this.hold('tilt-warning', { kind: 'estimator', id: 'tilt' }, detail);
  }

  /** Tilt back below warning − hysteresis: no longer fallen (a reset or resume may follow). */
  tiltCleared(): void {
    this.fallen = false;
  }

  /** The operator's dead-man heartbeat. The first one arms the dead-man (when configured). */
  operatorHeartbeat(): void {
    if (this.deadmanUs <= 0) return;
    this.lastHeartbeatUs = this.clock.nowUs();
    if (this.deadmanTimer !== null) this.clock.clearTimeout(this.deadmanTimer);
    this.deadmanTimer = this.clock.setTimeout(this.onDeadman, this.deadmanUs / 1000);
  }

  /** A new latent plan, valid until `validUntilUs` (supervisor clock). HOLD for a plan-related
   * cause resumes by itself; after a latch the plan only makes resume() possible. */
  planReceived(validUntilUs: number): void {
    this.planSeq++;
    this.planValidUntilUs = validUntilUs;
    if (this.planTimer !== null) this.clock.clearTimeout(this.planTimer);
    this.planTimer = this.clock.setTimeout(this.onPlanExpired, (validUntilUs - this.clock.nowUs()) / 1000);
    if (this.sm.is(S.HOLD) && this.holdCause !== null && PLAN_CLEARED_HOLDS.has(this.holdCause) && this.planFresh()) {
      this.move([S.HOLD], S.ACTIVE, 'new-plan', { kind: 'remote', id: 'brain' }, 'new plan after hold');
    }
  }

  decoderFailed(detail: string): void {
    if (this.sm.is(S.ACTIVE)) this.hold('decoder-failed', { kind: 'edge', id: 'decoder' }, detail);
  }

  /** NaN, Inf or a wrong dimension before the wire: HOLD and report (safety rule 4). */
  badNumbers(detail: string): void {
    if (this.sm.is(S.ACTIVE)) this.hold('bad-numbers', { kind: 'edge', id: 'command-gate' }, detail);
  }

  /** The scheduler has no action for now (every chunk ran out). */
  chunkExhausted(): void {
    if (this.sm.is(S.ACTIVE)) this.hold('chunk-exhausted', { kind: 'edge', id: 'scheduler' }, 'no action covers the present time');
  }

  /** Actions cover the present time again: a HOLD for chunk-exhausted ends while the plan is fresh. */
  chunkResumed(): void {
    if (this.sm.is(S.HOLD) && this.holdCause === 'chunk-exhausted' && this.planFresh()) {
      this.move([S.HOLD], S.ACTIVE, 'chunk-resumed', { kind: 'edge', id: 'scheduler' }, 'actions available again');
    }
  }

  /** The control loop's worker died or stalled beyond recovery. */
  controlFailed(detail: string): void {
    const source: SafetySource = { kind: 'edge', id: 'control' };
    if (this.sm.is(...MOVING_OR_READY)) {
      this.latch('control-failed', S.FAULT, source, detail);
      this.sendEstop(StopCategory.CAT1, EstopSource.HOST, EstopReason.CONTROL_FAILED, 'control-failed');
    } else {
      this.recordWhileLatched('control-failed', source);
    }
  }

  /**
   * The main event loop stalled beyond its bound while the tick thread owned the wire; that thread
   * held the robot meanwhile. ACTIVE → HOLD, and a HOLD becomes one that only resume() ends (a new
   * plan or new chunks do not): nobody watched for stops during the stall. Either way a `transition`
   * event names the stall (HOLD → HOLD when only the cause changes).
   */
  controlStalled(detail: string): void {
    const source: SafetySource = { kind: 'edge', id: 'control' };
    if (this.sm.is(S.ACTIVE)) return this.hold('control-stalled', source, detail);
    if (!this.sm.is(S.HOLD)) return;
    this.holdCause = 'control-stalled';
    const ev = { from: S.HOLD, to: S.HOLD, cause: 'control-stalled' as const, source, at: this.clock.nowUs(), detail };
    this.log.warn(ev, 'safety transition');
    this.emit('transition', ev);
  }

  // ---- operator requests ----------------------------------------------------------------------

  /** Start or continue motion: IDLE|HOLD → ACTIVE. Needs authorisation, safety and a fresh plan. */
  resume(op: OperatorIdentity): boolean {
    if (!this.authorise(op)) return this.refuse('resume', op, 'unauthorised', `operator "${op.id}" with role "${op.role}" may not resume`);
    if (!this.sm.is(S.IDLE, S.HOLD)) return this.refuse('resume', op, 'wrong-state', `resume needs IDLE or HOLD; state is ${this.sm.state}`);
    const unsafe = [...this.unsafeReasons(), ...[...this.impossible.values()].map((d) => `impossible STATE value: ${d}`)];
    // Motion starts from the measured position: none is current until a STATE has arrived since
    // the link (or the MCU) came back.
    if (this.linkUp && this.mcuLatchSeen === 'unknown') unsafe.push('no STATE from the MCU since the link or the MCU restarted');
    if (unsafe.length > 0) return this.refuse('resume', op, 'unsafe', unsafe.join('; '));
    if (!this.planFresh()) return this.refuse('resume', op, 'no-fresh-plan', 'no valid plan received since the last stop');
    this.move([S.IDLE, S.HOLD], S.ACTIVE, 'resume', { kind: 'operator', id: op.id }, 'operator resume');
    return true;
  }

  /** A deliberate, non-latching stop: ACTIVE|HOLD → IDLE (the robot holds its position). */
  operatorStop(op: OperatorIdentity): void {
    if (this.sm.is(S.ACTIVE, S.HOLD)) this.move([S.ACTIVE, S.HOLD], S.IDLE, 'operator-stop', { kind: 'operator', id: op.id }, 'operator stop');
  }

  /**
   * Clears a latched ESTOP or FAULT: authorised operator, robot safe, then RESET on the wire; IDLE
   * only when the MCU acknowledges. Never resumes motion. Resolves true on success; a refusal is
   * emitted as `refused` and resolves false.
   */
  async reset(op: OperatorIdentity): Promise<boolean> {
    if (!this.authorise(op)) return this.refuse('reset', op, 'unauthorised', `operator "${op.id}" with role "${op.role}" may not reset`);
    if (!this.sm.is(S.ESTOP, S.FAULT)) return this.refuse('reset', op, 'wrong-state', `nothing to reset; state is ${this.sm.state}`);
    if (this.resetInFlight) return this.refuse('reset', op, 'wrong-state', 'a reset is already in progress');
    const unsafe = this.unsafeReasons();
    if (unsafe.length > 0) return this.refuse('reset', op, 'unsafe', unsafe.join('; '));
    this.resetInFlight = true;
    const generation = this.latchGen;
    try {
      const ack = await this.actuator.sendReset(ResetWhat.ESTOP | ResetWhat.FAULTS | ResetWhat.WATCHDOG, this.resetToken++);
      if (ack.result !== AckResult.OK) return this.refuse('reset', op, 'mcu-refused', `MCU refused RESET (ACK result ${ack.result}${ack.result === AckResult.REFUSED_UNSAFE ? ': unsafe, e.g. its button is still pressed' : ''})`);
    } catch (e) {
      return this.refuse('reset', op, 'link-error', (e as Error).message);
    } finally {
      this.resetInFlight = false;
    }
    // A stop requested after the RESET went on the wire wins: the MCU latched it after the reset.
    if (!this.sm.is(S.ESTOP, S.FAULT)) return this.refuse('reset', op, 'wrong-state', `state changed to ${this.sm.state} during the reset`);
    if (this.latchGen !== generation) return this.refuse('reset', op, 'wrong-state', `a new stop (${String(this.lastStopCause)}) was requested while the RESET was on the wire; still latched`);
    this.latched = null;
    this.relatchAtUs = Number.NEGATIVE_INFINITY;
    this.latchCategory = StopCategory.CAT2;
    this.move([S.ESTOP, S.FAULT], S.IDLE, 'reset', { kind: 'operator', id: op.id }, 'authorised reset');
    return true;
  }

  /** Cancels timers (daemon shutdown). */
  dispose(): void {
    if (this.planTimer !== null) this.clock.clearTimeout(this.planTimer);
    if (this.deadmanTimer !== null) this.clock.clearTimeout(this.deadmanTimer);
    this.planTimer = this.deadmanTimer = null;
  }

  // ---- internals ------------------------------------------------------------------------------

  private readonly onPlanExpired = (): void => {
    this.planTimer = null;
    if (this.sm.is(S.ACTIVE)) this.hold('plan-expired', { kind: 'edge', id: 'plan-ttl' }, 'plan older than its validity');
  };

  private readonly onDeadman = (): void => {
    this.deadmanTimer = null;
    this.stop('deadman-timeout', { kind: 'edge', id: 'deadman' }, this.cats.deadman, EstopSource.HOST, EstopReason.DEADMAN,
      `no operator heartbeat for ${this.deadmanUs / 1000} ms`, true);
  };

  private deadmanAlive(): boolean {
    return Number.isFinite(this.lastHeartbeatUs) && this.clock.nowUs() - this.lastHeartbeatUs < this.deadmanUs;
  }

  /** Any stop source: ESTOP frame on the wire (when `send`), then latch ESTOP (or record it). */
  /** `send`: put an ESTOP on the wire (false for stops the MCU made itself). `alreadyOnWire`: the
   * caller wrote that frame already (with this outcome); it is recorded, not sent twice. */
  private stop(cause: SafetyCause, source: SafetySource, category: number, wireSource: number, reason: number, detail: string, send: boolean, alreadyOnWire?: boolean): void {
    if (send) this.sendEstop(category, wireSource, reason, cause, alreadyOnWire);
    if (this.sm.is(S.ESTOP)) return this.recordWhileLatched(cause, source);
    this.latch(cause, S.ESTOP, source, detail);
  }

  /** A stop requested while latched: no transition, but a stop all the same (a reset in flight
   * does not clear it, a plan from before it is stale), and an event. */
  private recordWhileLatched(cause: SafetyCause, source: SafetySource): void {
    this.latchGen++;
    this.lastStopCause = cause;
    this.bumpEpoch();
    this.latchPlanSeq = this.planSeq;
    this.emit('stop-while-latched', { cause, source, at: this.clock.nowUs() });
  }

  private latch(cause: SafetyCause, to: typeof S.ESTOP | typeof S.FAULT, source: SafetySource, detail: string): void {
    this.latched = cause;
    this.latchGen++;
    this.lastStopCause = cause;
    this.bumpEpoch();
    this.latchPlanSeq = this.planSeq;
    this.move(to === S.ESTOP ? NOT_ESTOP : MOVING_OR_READY, to, cause, source, detail);
  }

  /** In HOLD already: a cause that needs a resume replaces one a new plan would clear. */
  private upgradeHold(cause: SafetyCause, source: SafetySource, detail: string): void {
    if (this.holdCause !== null && !PLAN_CLEARED_HOLDS.has(this.holdCause)) return;
    this.holdCause = cause;
    const ev = { cause, source, at: this.clock.nowUs(), detail };
    this.log.warn(ev, 'safety hold: cause now needs a resume');
    this.emit('hold-cause', ev);
  }

  private setMcuLatch(latch: McuLatch, detail: string): void {
    if (latch === this.mcuLatchSeen) return;
    this.mcuLatchSeen = latch;
    this.emit('mcu-latch', { latch, at: this.clock.nowUs(), detail });
  }

  private sendEstop(category: number, source: number, reason: number, cause: SafetyCause, alreadyOnWire?: boolean): void {
    const onWire = alreadyOnWire ?? this.actuator.sendEstop(category, source, reason);
    this.relatchAtUs = this.clock.nowUs();
    if (category < this.latchCategory) this.latchCategory = category;
    this.emit('estop-sent', { category, source, reason, onWire, cause, at: this.clock.nowUs() });
    if (!onWire) this.log.error({ category, cause }, 'ESTOP could not be put on the wire; the MCU watchdog is the remaining stop');
  }

  private hold(cause: SafetyCause, source: SafetySource, detail: string): void {
    this.holdCause = cause;
    this.move([S.ACTIVE], S.HOLD, cause, source, detail);
  }

  private move(from: SafetyState[], to: SafetyState, cause: SafetyCause, source: SafetySource, detail: string): void {
    if (to === S.ACTIVE) this.activeSince = this.clock.nowUs();
    this.pendingCause = cause;
    this.pendingSource = source;
    this.pendingDetail = detail;
    this.sm.transition(from, to);
  }

  private refuse(request: RefusalEvent['request'], op: OperatorIdentity | null, reason: RefusalEvent['reason'], detail: string): false {
    const ev: RefusalEvent = { request, operator: op, reason, detail, at: this.clock.nowUs() };
    this.log.warn(ev, `${request} refused`);
    this.emit('refused', ev);
    return false;
  }
}
