/**
 * The reference brain (the default backend): understands a small instruction grammar
 * (instruction-parser.ts), runs it against the robot's observed joint positions (goal-runner.ts),
 * and encodes the current goal, where the motion to it started and how long it takes into
 * "spinal.reference-goal/2" (proto/latent/reference-goal.ts), so the edge's reference decoder moves
 * the robot there along one minimum-jerk path, however often and late it decodes the plan.
 *
 * Per session it keeps the robot's joints (from the Hello), the goal range, and the runner of the
 * current task; a new task id restarts the runner from the robot's current position. An
 * instruction it does not understand holds the robot where it is and yields, once per task, a
 * BAD_INSTRUCTION notice that explains the grammar.
 */
import {
  REFERENCE_GOAL_LATENT_SPACE, encodeGoal, goalRangeFromLimits, referenceGoalLatentDim, type GoalRange,
} from '../../../proto/latent/reference-goal.js';
import type { Hello } from '../../../proto/brain/index.js';
import { systemClock, type Clock } from '../../clock.js';
import type { BrainBackend, InferContext, InferRequest, InferResult, Notice } from '../backend.js';
import { GoalRunner, DEFAULT_GOAL_RUNNER, type CurrentGoal, type GoalRunnerOptions } from './goal-runner.js';
import { parseInstruction } from './instruction-parser.js';
import { robotJointsFromHello, type RobotJoints } from './robot-kinematics.js';

export interface ReferenceBackendOptions {
  /** Control rate assumed when a Hello announces none (control_hz = 0). */
  defaultControlHz?: number;
  runner?: Partial<GoalRunnerOptions>;
  clock?: Clock;
}

export const DEFAULT_CONTROL_HZ = 500;

interface RobotState {
  joints: RobotJoints;
  range: GoalRange;
  controlHz: number;
  taskId: string | null;
  runner: GoalRunner | null;
  /** The goal of the last observation served: what `status` reports. */
  last: CurrentGoal | null;
}

/** Null when a backend that plans in the reference goal space can serve this robot; else why not. */
export function referenceGoalAccepts(h: Hello): string | null {
  if (h.latentSpace !== REFERENCE_GOAL_LATENT_SPACE) return `it produces "${REFERENCE_GOAL_LATENT_SPACE}", the robot decodes "${h.latentSpace}"`;
  const J = h.joints.length;
  if (J === 0) return 'the hello lists no joints';
  if (h.latentDim !== referenceGoalLatentDim(J)) return `latent_dim ${h.latentDim} does not fit ${J} joints (expected ${referenceGoalLatentDim(J)})`;
  if (h.stateDim < J) return `state_dim ${h.stateDim} is smaller than the ${J} joint positions it reads`;
  return null;
}

export class ReferenceBackend implements BrainBackend {
  readonly name = 'reference';
  private readonly sessions = new Map<string, RobotState>();
  private readonly clock: Clock;
  private readonly defaultControlHz: number;
  private readonly runnerOpts: GoalRunnerOptions;

  constructor(opts: ReferenceBackendOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.defaultControlHz = opts.defaultControlHz ?? DEFAULT_CONTROL_HZ;
    this.runnerOpts = { ...DEFAULT_GOAL_RUNNER, ...opts.runner };
  }

  accepts(h: Hello): string | null {
    return referenceGoalAccepts(h);
  }

  async infer(batch: readonly InferRequest[], _ctx: InferContext): Promise<InferResult[]> {
    const now = this.clock.monoMs();
    return batch.map((r) => this.one(r, now));
  }

  private one(r: InferRequest, nowMs: number): InferResult {
    let s = this.sessions.get(r.session.sessionId);
    if (s === undefined) {
      const joints = robotJointsFromHello(r.session.hello);
      s = {
        joints, range: goalRangeFromLimits(joints.lower, joints.upper), taskId: null, runner: null, last: null,
        controlHz: r.session.hello.controlHz > 0 ? r.session.hello.controlHz : this.defaultControlHz,
      };
      this.sessions.set(r.session.sessionId, s);
    }
    const state = r.observation.state;
    let notice: Notice | undefined;
    if (s.runner === null || s.taskId !== r.task.taskId) {
      const parsed = parseInstruction(r.task.instruction, s.joints);
      const program = parsed.ok ? parsed.program : { label: 'hold (instruction not understood)', steps: [{ target: { kind: 'start' as const }, label: 'hold', dwellMs: 0 }] };
      if (!parsed.ok) notice = { code: 'BAD_INSTRUCTION', message: parsed.message };
      s.runner = new GoalRunner(program, s.joints, state, nowMs, this.runnerOpts);
      s.taskId = r.task.taskId;
    }
    const goal = s.runner.next(state, nowMs);
    s.last = goal;
    const latent = encodeGoal({ position: goal.position, from: goal.from, stepsToGoal: Math.max(1, goal.timeS * s.controlHz) }, s.range);
    return notice === undefined ? { ok: true, latent } : { ok: true, latent, notice };
  }

  /** The program's progress for operators: "step 2/3 (home): wave", or "done: wave". */
  status(sessionId: string): string | null {
    const s = this.sessions.get(sessionId);
    if (s === undefined || s.runner === null || s.last === null) return null;
    const { program } = s.runner;
    if (s.last.done) return `done: ${program.label}`;
    return `step ${s.last.step + 1}/${program.steps.length} (${s.last.label}): ${program.label}`;
  }

  endSession(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
