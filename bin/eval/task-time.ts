/**
 * How long an eval run lasts, derived from the task's plan and the run's condition instead of a
 * fixed figure per task: a fixed 9 s ran out for the arm's wave (6.3 s of planned motion in 7
 * steps) once each step also waited for the brain, and at 300-500 ms of brain latency the wave
 * could not succeed whatever the control did.
 *
 * The plan: the reference brain's own program for the instruction (parseInstruction) walked with
 * its GoalRunner, each step's goal reached exactly, from the task's start pose: the motion time of
 * every step (the brain's, as its plans carry it) and its dwell. Every step then costs, besides
 * its motion, what the loop needs to pass on to the next: the brain sees the goal reached at its
 * next observation (one observation period at most), answers after its round trip (latency plus
 * the whole jitter), the first chunk of the new goal is decoded (the decode latency), and the
 * measured position settles into the tolerance behind the command (SETTLE_S). The run lasts that,
 * the motion stretched by MOTION_SLACK (the success criterion's own 20 %), plus the hold the task
 * is judged on and a margin. A task with `durationS` keeps its own (a hold is a 10 s hold).
 */
import { GoalRunner } from '../../cloud/backends/reference/goal-runner.js';
import { parseInstruction } from '../../cloud/backends/reference/instruction-parser.js';
import type { RobotJoints } from '../../cloud/backends/reference/robot-kinematics.js';
import { getProfile, type RobotProfile } from '../../hardware/index.js';
import type { EvalCondition, EvalTask } from './eval-types.js';

/** s: from the command reaching a goal to the measured position inside the tolerance. */
const SETTLE_S = 0.25;
/** The motion may take this much longer than planned and still count as on time (checkThresholds). */
const MOTION_SLACK = 1.2;
/** s added at the end. */
const MARGIN_S = 0.5;

export function robotJointsOf(profile: RobotProfile): RobotJoints {
  return {
    names: profile.joints.map((j) => j.name),
    lower: profile.joints.map((j) => j.limits.positionMin),
    upper: profile.joints.map((j) => j.limits.positionMax),
    velocityMax: profile.joints.map((j) => j.limits.velocityMax),
    accelerationMax: profile.joints.map((j) => j.limits.accelerationMax),
    poses: new Map(Object.entries(profile.poses).map(([k, q]) => [k.toLowerCase(), q as readonly number[]])),
  };
}

export interface PlannedStep {
  label: string;
  /** The brain's motion time for the step, s. */
  motionS: number;
  dwellS: number;
}

/** The steps of the brain's program for the task, each reached exactly in turn. */
export function plannedSteps(task: EvalTask): PlannedStep[] {
  const profile = getProfile(task.profile);
  const robot = robotJointsOf(profile);
  const parsed = parseInstruction(task.instruction, robot);
  if (!parsed.ok) throw new RangeError(`task ${task.profile}/${task.id}: instruction ${JSON.stringify(task.instruction)}: ${parsed.message}`);
  const program = parsed.program;
  let state: number[] = [...(task.startPose ?? (profile.poses['home'] as number[]))];
  let nowMs = 0;
  const runner = new GoalRunner(program, robot, state, nowMs);
  const out: PlannedStep[] = [];
  for (;;) {
    const g = runner.next(state, nowMs);
    const dwellMs = program.steps[g.step]?.dwellMs ?? 0;
    out.push({ label: g.label, motionS: g.timeS, dwellS: dwellMs / 1000 });
    if (g.step === program.steps.length - 1) return out;
    // Reached at once: the runner notes it, then the dwell passes and it moves on.
    state = [...g.position];
    nowMs += g.timeS * 1000;
    runner.next(state, nowMs);
    nowMs += dwellMs;
  }
}

/** Seconds an eval run of `task` lasts under `cond` (see the module comment). */
export function taskDurationS(task: EvalTask, cond: EvalCondition, observationRateHz: number): number {
  if (task.durationS !== undefined) return task.durationS;
  const wait = 1 / observationRateHz + (cond.brainLatencyMs + cond.brainJitterMs + cond.decoderLatencyMs) / 1000;
  const steps = plannedSteps(task);
  const perStep = steps.reduce((s, p) => s + p.motionS * MOTION_SLACK + p.dwellS + wait + SETTLE_S, 0);
  return wait + perStep + task.holdS + MARGIN_S;
}
