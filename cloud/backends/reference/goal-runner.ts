/**
 * Runs a Program against the robot's observed state: which goal is current, where the motion to it
 * started (the robot's position when the step began) and how long that whole motion should take
 * (fixed when the step begins, so every plan of one step describes the same path). A step ends when every joint is within `tolerance` of
 * its goal and the step's dwell has passed, or when its timeout passes (a robot that cannot reach
 * a goal does not stall the sequence); the last step is held for good.
 *
 * Invariant: goals always lie within the joint limits; stepsToGoal >= 1 and never asks a joint for
 * more than PEAK_VELOCITY_FRACTION of its velocity limit (motionTimeS).
 */
import type { Program, StepTarget } from './instruction-parser.js';
import { motionTimeS, type RobotJoints } from './robot-kinematics.js';

export interface GoalRunnerOptions {
  /** Joint distance counted as "reached" (rad). */
  toleranceRad: number;
  /** A step's timeout: its planned motion time times this factor, plus timeoutSlackMs. */
  timeoutFactor: number;
  timeoutSlackMs: number;
}

export const DEFAULT_GOAL_RUNNER: GoalRunnerOptions = { toleranceRad: 0.03, timeoutFactor: 2, timeoutSlackMs: 1000 };

export interface CurrentGoal {
  position: number[];
  /** Where the motion to `position` started (the robot's position when the step began). */
  from: number[];
  /** Seconds the whole motion from `from` to `position` takes. */
  timeS: number;
  step: number;
  label: string;
  done: boolean;
}

/** A motion already under way that a new program's first step continues (same goal): its start,
 * duration and begin time carry over, so a replanned program does not restart the path. */
export interface ResumedMotion {
  from: readonly number[];
  timeS: number;
  startMs: number;
}

export class GoalRunner {
  private step = 0;
  private stepStartMs: number;
  private stepTimeoutMs: number;
  private reachedAtMs: number | null = null;
  private readonly start: number[];
  private stepFrom: number[];
  private stepTimeS: number;

  constructor(
    readonly program: Program,
    private readonly robot: RobotJoints,
    startState: ArrayLike<number>,
    nowMs: number,
    private readonly opts: GoalRunnerOptions = DEFAULT_GOAL_RUNNER,
    resume?: ResumedMotion,
  ) {
    this.start = Array.from({ length: robot.names.length }, (_, j) => startState[j] as number);
    this.stepStartMs = resume?.startMs ?? nowMs;
    this.stepFrom = resume !== undefined ? [...resume.from] : [...this.start];
    this.stepTimeS = resume?.timeS ?? this.motionTimeFor(this.start);
    this.stepTimeoutMs = this.stepTimeS * 1000 * this.opts.timeoutFactor + this.opts.timeoutSlackMs;
  }

  get stepIndex(): number {
    return this.step;
  }

  /** When the current step's motion began (the clock of next()'s nowMs). */
  get stepStartedMs(): number {
    return this.stepStartMs;
  }

  /** The goal for an observation of `state` at `nowMs` (advancing the program first). */
  next(state: ArrayLike<number>, nowMs: number): CurrentGoal {
    const last = this.program.steps.length - 1;
    while (this.step < last) {
      const goal = this.resolve(this.program.steps[this.step]?.target);
      const reached = this.within(state, goal);
      if (reached && this.reachedAtMs === null) this.reachedAtMs = nowMs;
      const dwell = this.program.steps[this.step]?.dwellMs ?? 0;
      const dwelt = this.reachedAtMs !== null && nowMs - this.reachedAtMs >= dwell;
      if (!dwelt && nowMs - this.stepStartMs < this.stepTimeoutMs) break;
      this.step++;
      this.stepStartMs = nowMs;
      this.reachedAtMs = null;
      this.stepFrom = Array.from({ length: this.robot.names.length }, (_, j) => state[j] as number);
      this.stepTimeS = this.motionTimeFor(state);
      this.stepTimeoutMs = this.stepTimeS * 1000 * this.opts.timeoutFactor + this.opts.timeoutSlackMs;
    }
    const position = this.resolve(this.program.steps[this.step]?.target);
    return {
      position, from: this.stepFrom, timeS: this.stepTimeS, step: this.step,
      label: this.program.steps[this.step]?.label ?? '', done: this.step === last && this.within(state, position),
    };
  }

  private motionTimeFor(from: ArrayLike<number>): number {
    const step = this.program.steps[this.step];
    return Math.max(motionTimeS(this.robot, from, this.resolve(step?.target)), step?.minMotionS ?? 0);
  }

  private within(state: ArrayLike<number>, goal: readonly number[]): boolean {
    for (let j = 0; j < goal.length; j++) if (Math.abs((state[j] as number) - (goal[j] as number)) > this.opts.toleranceRad) return false;
    return true;
  }

  private resolve(t: StepTarget | undefined): number[] {
    if (t === undefined) return this.start;
    if (t.kind === 'positions') return t.positions;
    return this.start.map((q, j) => {
      const v = q + (t.offsets?.[j] ?? 0);
      return Math.min(this.robot.upper[j] as number, Math.max(this.robot.lower[j] as number, v));
    });
  }
}
