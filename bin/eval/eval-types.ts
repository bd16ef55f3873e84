/** What `spinal eval` runs and what it measures: tasks, conditions, traces and per-task figures. */
import type { SwitchPolicy } from '../../edge/control/switch-policy.js';

/** A task of the reference brain's grammar, on one robot profile. */
export interface EvalTask {
  /** Short id, unique within a profile: "hold", "reach-home", "wave", ... */
  id: string;
  profile: string;
  /** Sent to the reference brain as the task's instruction. */
  instruction: string;
  /** Joint positions the robot starts in (rad); default the profile's home pose. */
  startPose?: readonly number[];
  /** Seconds the task runs (it must be reached and held within them); default derived from the
   * brain's plan and the run's latencies (task-time.ts). */
  durationS?: number;
  /** Tail of the run, s, over which the robot must stay within tolerance ("held"). */
  holdS: number;
}

/** How chunks are executed: one of the scheduler's switching policies, or stop-and-go (the
 * synchronous peer: a chunk is requested only when the last has run out; the robot holds meanwhile). */
export type Execution = SwitchPolicy | 'stop-and-go';

export interface EvalCondition {
  execution: Execution;
  /** 'reference' (the profile's reference decoder) or 'dit-s' (the reference chunks at the DiT-S
   * decode latency measured on this machine: the benchmark DiTs are untrained). */
  decoder: 'reference' | 'dit-s';
  /** Decode latency as the control loop sees it, ms (simulated). */
  decoderLatencyMs: number;
  /** Brain round trip, ms (simulated), plus uniform jitter in [0, brainJitterMs). */
  brainLatencyMs: number;
  brainJitterMs: number;
  /** Probability that a plan is lost on the way. */
  planLoss: number;
  seed: number;
}

/** One control tick of the run (the command as it went out, the robot as measured). */
export interface TraceRow {
  tUs: number;
  /** rad, as sent after limits (the CommandGate's lastSent); NaN before the first command. */
  sent: Float64Array;
  /** rad/s, as sent. */
  sentVelocity: Float64Array;
  /** rad, the estimator's snapshot. */
  measured: Float64Array;
  /** Joints clamped in this tick's command (ClampFlag bits ORed over joints). */
  clampFlags: number;
  active: boolean;
  /** Commands went out before this row that the trace did not record (real-time sampling): no
   * difference is taken across it. */
  gap?: boolean;
}

/** A goal the brain started (the plan's first latent for it), decoded. */
export interface PlanGoal {
  /** µs: when the edge received the first plan for this goal. */
  arrivedUs: number;
  /** µs: capture time of the observation it answered. */
  captureUs: number;
  from: Float64Array;
  goal: Float64Array;
  /** The plan's time to goal, s. */
  timeS: number;
}

export interface TaskFigures {
  task: string;
  profile: string;
  condition: EvalCondition;
  success: boolean;
  /** s from the first plan's arrival until the robot is within tolerance of the final goal for good; null when never. */
  completionS: number | null;
  /** The plans' times to goal summed over the task's goals, s (the plan's own estimate). */
  planTimeS: number;
  /** completion / plan time. */
  completionRatio: number | null;
  /** RMS over ticks and joints of measured - the plan's mean trajectory, rad; and its maximum. */
  trackingRmsRad: number;
  trackingMaxRad: number;
  rest: MotionFigures;
  motion: MotionFigures;
  /** Commands with a velocity / acceleration / position clamp. */
  clamps: { velocity: number; acceleration: number; position: number };
  /** HOLDs (any cause), by cause, and plans lost. */
  holds: number;
  holdCauses: Record<string, number>;
  /** Real-time runs: commands the daemon sent, those the trace recorded, and those the gate
   * clamped (any limit; its own counter, so also the unrecorded ones). */
  sampling?: { commandsSent: number; commandsSeen: number; clampedCommands: number };
  plansLost: number;
}

export interface MotionFigures {
  /** Ticks in this phase. */
  ticks: number;
  /** RMS of the commanded velocity, rad/s, over ticks and joints (max over joints of per-joint RMS). */
  velocityRms: number;
  /** Max over joints of the std of the commanded position, deg. */
  positionStdDeg: number;
  /** Peak |jerk| of the commanded positions (third difference), rad/s³. */
  peakJerk: number;
}
