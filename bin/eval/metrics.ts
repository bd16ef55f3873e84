/**
 * Figures of one run (eval-types.ts TaskFigures) from its trace:
 * - the plan's mean trajectory: for each goal the brain started, the minimum-jerk path of the
 *   reference latent space from the commanded position when the plan arrived, over the plan's
 *   time to goal; tracking error is measured - that path, over the ticks after the first plan;
 * - completion: the first tick after which the measured position stays within `toleranceRad` of
 *   the final goal on every joint to the end of the run; success needs it no later than
 *   `holdS` before the end;
 * - at rest: ticks after completion and after the last goal's planned motion time (the whole run
 *   for a hold task); in motion: from the first plan to completion. Velocity RMS and position std are of the commanded (sent) values; jerk is
 *   the third difference of the sent positions.
 */
import { ClampFlag } from '../../edge/safety/command-limiter.js';
import { minimumJerk } from '../../proto/latent/reference-goal.js';
import type { EvalCondition, EvalTask, MotionFigures, PlanGoal, TaskFigures, TraceRow } from './eval-types.js';
import type { RunTrace } from './sim-rig.js';

const RAD2DEG = 180 / Math.PI;

/** The plan's mean trajectory at tUs, into out (rad). */
export function planPosition(goals: readonly PlanGoal[], tUs: number, out: Float64Array): boolean {
  let g: PlanGoal | undefined;
  for (const x of goals) if (x.arrivedUs <= tUs) g = x;
  if (g === undefined) return false;
  const s = g.timeS > 0 ? (tUs - g.arrivedUs) / 1e6 / g.timeS : 1;
  const phi = minimumJerk(s);
  for (let j = 0; j < out.length; j++) out[j] = (g.from[j] as number) + ((g.goal[j] as number) - (g.from[j] as number)) * phi;
  return true;
}

function motionFigures(rows: readonly TraceRow[], from: number, to: number, dt: number): MotionFigures {
  const n = rows[0]?.sent.length ?? 0;
  let velocityRms = 0, positionStdDeg = 0, peakJerk = 0;
  let ticks = 0;
  for (let j = 0; j < n; j++) {
    let sv = 0, sp = 0, sp2 = 0, k = 0;
    for (let i = from; i < to; i++) {
      const r = rows[i] as TraceRow;
      const p = r.sent[j] as number;
      if (!Number.isFinite(p)) continue;
      const v = r.sentVelocity[j] as number;
      sv += v * v; sp += p; sp2 += p * p; k++;
      if (i - 3 >= from && r.gap !== true && rows[i - 1]?.gap !== true && rows[i - 2]?.gap !== true) {
        const q = (d: number): number => (rows[i - d] as TraceRow).sent[j] as number;
        const jk = Math.abs((q(0) - 3 * q(1) + 3 * q(2) - q(3)) / (dt * dt * dt));
        if (Number.isFinite(jk)) peakJerk = Math.max(peakJerk, jk);
      }
    }
    if (k === 0) continue;
    ticks = k;
    velocityRms = Math.max(velocityRms, Math.sqrt(sv / k));
    const mean = sp / k;
    positionStdDeg = Math.max(positionStdDeg, Math.sqrt(Math.max(0, sp2 / k - mean * mean)) * RAD2DEG);
  }
  return { ticks, velocityRms, positionStdDeg, peakJerk };
}

export function taskFigures(task: EvalTask, cond: EvalCondition, run: RunTrace, toleranceRad: number): TaskFigures {
  const rows = run.rows;
  const n = rows[0]?.sent.length ?? 0;
  const final = run.goals[run.goals.length - 1];
  const endUs = rows[rows.length - 1]?.tUs ?? 0;
  // Completion: the last tick outside tolerance, plus one.
  let done = -1;
  if (final !== undefined) {
    done = rows.length;
    for (let i = rows.length - 1; i >= 0; i--) {
      const m = (rows[i] as TraceRow).measured;
      let inside = true;
      for (let j = 0; j < n; j++) if (Math.abs((m[j] as number) - (final.goal[j] as number)) > toleranceRad) inside = false;
      if (!inside) break;
      done = i;
    }
    if (done === rows.length) done = -1;
  }
  const firstIdx = rows.findIndex((r) => r.tUs >= run.firstPlanUs);
  const completionS = done >= 0 && Number.isFinite(run.firstPlanUs) ? Math.max(0, ((rows[done] as TraceRow).tUs - run.firstPlanUs) / 1e6) : null;
  const success = done >= 0 && endUs - (rows[done] as TraceRow).tUs >= task.holdS * 1e6 - 1;
  const planTimeS = run.goals.reduce((s, g) => s + g.timeS, 0);

  let se = 0, k = 0, maxErr = 0;
  const ref = new Float64Array(n);
  for (let i = Math.max(0, firstIdx); i < rows.length; i++) {
    const r = rows[i] as TraceRow;
    if (!planPosition(run.goals, r.tUs, ref)) continue;
    for (let j = 0; j < n; j++) {
      const e = (r.measured[j] as number) - (ref[j] as number);
      se += e * e; k++;
      maxErr = Math.max(maxErr, Math.abs(e));
    }
  }
  // At rest: once the goal is reached and the plan's own motion is over.
  // The plan's motion can start only once a chunk for it is decoded: its end is due the decode
  // latency after the plan's own time (a 120 ms decoder's last approach is motion, not rest).
  const planEndUs = final !== undefined ? final.arrivedUs + final.timeS * 1e6 + cond.decoderLatencyMs * 1000 : Infinity;
  const planEndIdx = rows.findIndex((r) => r.tUs >= planEndUs);
  const restFrom = task.instruction === 'hold' ? Math.max(0, firstIdx) : done >= 0 ? Math.max(done, planEndIdx < 0 ? rows.length : planEndIdx) : rows.length;
  const clamps = { velocity: 0, acceleration: 0, position: 0 };
  for (const r of rows) {
    if ((r.clampFlags & ClampFlag.VELOCITY) !== 0) clamps.velocity++;
    if ((r.clampFlags & ClampFlag.ACCELERATION) !== 0) clamps.acceleration++;
    if ((r.clampFlags & ClampFlag.POSITION) !== 0) clamps.position++;
  }
  return {
    task: task.id, profile: task.profile, condition: cond, success, completionS, planTimeS,
    completionRatio: completionS !== null && planTimeS > 0 ? completionS / planTimeS : null,
    trackingRmsRad: k > 0 ? Math.sqrt(se / k) : Number.NaN, trackingMaxRad: maxErr,
    rest: motionFigures(rows, restFrom, rows.length, run.periodS),
    motion: motionFigures(rows, Math.max(0, firstIdx), task.instruction === 'hold' ? Math.max(0, firstIdx) : done >= 0 ? done : rows.length, run.periodS),
    clamps, holds: run.holds, holdCauses: run.holdCauses, plansLost: run.plansLost,
  };
}
