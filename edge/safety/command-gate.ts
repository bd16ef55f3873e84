/**
 * The last step before the wire: limits are clamped and bad numbers never pass here. Once per control tick the loop
 * submits a target (rad, one per joint, or null when no action covers now); the gate decides, by
 * the supervisor's state, what goes out:
 *   ACTIVE          the target, checked (finite, right dimension), limited (CommandLimiter), as
 *                   a POSITION command with feed-forward velocity; the limiter is seeded from the
 *                   measured position when ACTIVE begins without a valid reference, so the first
 *                   command after a resume starts where the joints are
 *   HOLD, IDLE      no motion: when the joints were moving under this run's commands, a controlled
 *                   stop (the last sent position as target, limited, so they decelerate within
 *                   their acceleration limits); once at rest, or with no such motion behind (after
 *                   a reset, an MCU restart, a lost link), HOLD mode: the MCU holds the joints
 *                   where they are. Nothing is ever driven toward a pose the gate chose earlier.
 *   BOOT/ESTOP/FAULT nothing (the link's heartbeat keeps the watchdog fed; the MCU is latched)
 * The limiter's reference is dropped whenever the supervisor's commandEpoch changes (a latch, the
 * link lost, the MCU restarted): the last command sent is then no reference for the next.
 * Bad numbers never reach the wire: they put the supervisor in HOLD and raise `bad-numbers`.
 * `lastSent` is what telemetry reports: the command as it went out, with a clamp flag per joint.
 * Allocation-free per tick (events are made only on changes).
 *
 * Where it runs: in the control tick thread when that thread owns the wire (edge/control/tick-wire.ts
 * gives it a view of the supervisor kept in shared memory, and the thread's own frame writer as the
 * sink), else on the thread that owns the serial link (the SafetySupervisor itself, the SerialLink).
 */
import { EventEmitter } from 'node:events';
// Narrow runtime imports: this file also loads in the tick worker, where every module costs start-up.
import { radPerSecToCps, radToCounts } from '../../hardware/calibration.js';
import type { JointProfile, RobotProfile } from '../../hardware/index.js';
import { CommandMode } from '../../proto/wire/constants.js';
import { newCommand } from '../../proto/wire/messages.js';
import type { CommandMsg } from '../../proto/wire/index.js';
import type { Clock } from '../clock.js';
import { CommandLimiter } from './command-limiter.js';
import { SafetyState } from './safety-state.js';
import type { SafetySupervisor } from './safety-supervisor.js';

/** What the gate reads of and reports to the supervisor; a SafetySupervisor satisfies it. */
export type GateSupervisor = Pick<SafetySupervisor, 'state' | 'holdReason' | 'commandEpoch' | 'activeSinceUs' | 'chunkExhausted' | 'chunkResumed' | 'badNumbers'>;

/** Where commands go; a SerialLink satisfies it. */
export interface CommandSink {
  sendCommand(cmd: CommandMsg): boolean;
}

/** The command as it went out. Reused: copy what you keep. */
export interface LastSent {
  /** Commands accepted by the sink since start. */
  count: number;
  /** µs (gate clock) of the latest one; NaN before the first. */
  atUs: number;
  mode: number;
  /** rad and rad/s, as sent (after limits). */
  position: Float64Array;
  velocity: Float64Array;
  /** ClampFlag bits per joint for the latest command. */
  clampFlags: Uint8Array;
  /** Joints clamped in the latest command. */
  clampedJoints: number;
  /** Commands in which at least one joint was clamped, since start. */
  clampedCommands: number;
}

export interface ClampEvent {
  /** ClampFlag bits per joint (a copy). */
  flags: number[];
  target: number[];
  sent: number[];
  at: number;
}

export type CommandGateEvents = {
  /** A run of clamped commands began (emitted on the first clamped command after an unclamped one). */
  clamped: [ev: ClampEvent];
  'bad-numbers': [ev: { detail: string; at: number }];
};

const I32_MIN = -2147483648, I32_MAX = 2147483647;

export class CommandGate extends EventEmitter<CommandGateEvents> {
  readonly limiter: CommandLimiter;
  readonly lastSent: LastSent;
  private readonly joints: readonly JointProfile[];
  private readonly n: number;
  private readonly cmd: CommandMsg = newCommand();
  private readonly outPos: Float64Array;
  private readonly outVel: Float64Array;
  private readonly flags: Uint8Array;
  private wasClamped = false;
  /** supervisor.commandEpoch when the limiter was primed. */
  private primedEpoch = -1;

  /** `periodMs`: the control tick period. */
  constructor(profile: RobotProfile, private readonly sink: CommandSink, private readonly supervisor: GateSupervisor, private readonly clock: Pick<Clock, 'nowUs'>, periodMs: number) {
    super();
    this.joints = profile.joints;
    this.n = profile.joints.length;
    this.limiter = new CommandLimiter(profile.joints.map((j) => j.limits), periodMs / 1000);
    this.outPos = new Float64Array(this.n);
    this.outVel = new Float64Array(this.n);
    this.flags = new Uint8Array(this.n);
    this.cmd.jointCount = this.n;
    this.lastSent = {
      count: 0, atUs: Number.NaN, mode: CommandMode.DISABLE,
      position: new Float64Array(this.n), velocity: new Float64Array(this.n), clampFlags: new Uint8Array(this.n),
      clampedJoints: 0, clampedCommands: 0,
    };
  }

  /**
   * One tick. `target`: rad per joint from the scheduler, or null when no action covers now.
   * `measured`: the latest measured joint positions (rad), used to seed the limiter after a stop;
   * null when there is no observation yet. `measuredAtUs`: when it was measured (gate clock);
   * when given, the limiter is seeded only from a measurement taken since ACTIVE began (a stale
   * one, e.g. from before a silent line, is where the joints were, not where they are: until a
   * fresh one arrives nothing is sent, and the heartbeat feeds the watchdog). Returns true when a
   * command went on the wire.
   */
  submit(target: ArrayLike<number> | null, measured: ArrayLike<number> | null, measuredAtUs?: number): boolean {
    const sup = this.supervisor;
    const state = sup.state;
    if (state === SafetyState.BOOT || state === SafetyState.ESTOP || state === SafetyState.FAULT) {
      this.limiter.unprime();
      return false;
    }
    if (this.limiter.primed && this.primedEpoch !== sup.commandEpoch) this.limiter.unprime();
    if (state === SafetyState.HOLD && target !== null && sup.holdReason === 'chunk-exhausted') {
      sup.chunkResumed(); // may move to ACTIVE: takes effect from the next tick
    }
    if (state !== SafetyState.ACTIVE) {
      if (this.limiter.primed && this.limiter.moving) {
        const clamped = this.limiter.limit(this.limiter.lastPosition, this.outPos, this.outVel, this.flags);
        return this.send(clamped, this.limiter.lastPosition);
      }
      this.limiter.unprime();
      return this.sendHold(measured);
    }
    if (!this.limiter.primed) {
      if (measured === null || !this.finite(measured, this.n)) return false;
      if (measuredAtUs !== undefined && !(measuredAtUs >= sup.activeSinceUs)) return false;
      this.limiter.prime(measured);
      this.primedEpoch = sup.commandEpoch;
    }
    // ACTIVE. A missing or bad target stops here (HOLD): this tick already decelerates.
    let goal: ArrayLike<number> = this.limiter.lastPosition;
    if (target === null) {
      sup.chunkExhausted();
    } else if (target.length !== this.n || !this.finite(target, this.n)) {
      const detail = target.length !== this.n
        ? `command has ${target.length} values, robot has ${this.n} joints`
        : `command value ${this.firstBad(target)} is not finite`;
      this.emit('bad-numbers', { detail, at: this.clock.nowUs() });
      sup.badNumbers(detail);
    } else {
      goal = target;
    }
    const clamped = this.limiter.limit(goal, this.outPos, this.outVel, this.flags);
    return this.send(clamped, goal);
  }

  /** HOLD mode: the MCU holds the joints where they are (the positions, ignored in HOLD, carry the
   * measured ones when known, for the record). */
  private sendHold(measured: ArrayLike<number> | null): boolean {
    const c = this.cmd;
    const known = measured !== null && this.finite(measured, this.n);
    c.mode = CommandMode.HOLD;
    for (let j = 0; j < this.n; j++) {
      const rad = known ? (measured[j] as number) : 0;
      c.position[j] = Math.max(I32_MIN, Math.min(I32_MAX, radToCounts(this.joints[j] as JointProfile, rad)));
      c.velocity[j] = 0;
      c.feedforward[j] = 0;
      this.outPos[j] = rad;
      this.outVel[j] = 0;
      this.flags[j] = 0;
    }
    if (!this.sink.sendCommand(c)) return false;
    this.recordSent(0);
    this.wasClamped = false;
    return true;
  }

  /** What went on the wire, as telemetry reports it: outPos, outVel and flags of this tick. */
  private recordSent(clamped: number): LastSent {
    const ls = this.lastSent;
    ls.count++;
    ls.atUs = this.clock.nowUs();
    ls.mode = this.cmd.mode;
    ls.position.set(this.outPos);
    ls.velocity.set(this.outVel);
    ls.clampFlags.set(this.flags);
    ls.clampedJoints = clamped;
    return ls;
  }

  private send(clamped: number, goal: ArrayLike<number>): boolean {
    const c = this.cmd;
    c.mode = CommandMode.POSITION;
    for (let j = 0; j < this.n; j++) {
      const jp = this.joints[j] as JointProfile;
      c.position[j] = radToCounts(jp, this.outPos[j] as number);
      c.velocity[j] = radPerSecToCps(jp, this.outVel[j] as number);
      c.feedforward[j] = 0;
    }
    if (!this.sink.sendCommand(c)) return false;
    this.limiter.commit(this.outPos, this.outVel);
    const ls = this.recordSent(clamped);
    if (clamped > 0) {
      ls.clampedCommands++;
      if (!this.wasClamped) {
        this.emit('clamped', { flags: Array.from(this.flags), target: Array.from({ length: this.n }, (_, j) => goal[j] as number), sent: Array.from(this.outPos), at: ls.atUs });
      }
    }
    this.wasClamped = clamped > 0;
    return true;
  }

  private finite(a: ArrayLike<number>, n: number): boolean {
    for (let j = 0; j < n; j++) if (!Number.isFinite(a[j])) return false;
    return true;
  }

  private firstBad(a: ArrayLike<number>): string {
    for (let j = 0; j < a.length; j++) if (!Number.isFinite(a[j])) return `[${j}]=${String(a[j])}`;
    return '?';
  }
}
