/**
 * Runs a suite in simulated time (or in real time through the daemon: realtime-rig.ts) and reports: per run its figures (JSON), per task a plot of
 * commanded against measured (SVG), and a summary table per decoder, execution and brain latency.
 * `checkThresholds` holds the motion-quality goals the short suite is held to.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GOAL_RUNNER } from '../../cloud/backends/reference/goal-runner.js';
import { modelCatalog } from '../../edge/decoder/models/catalog.js';
import { getProfile } from '../../hardware/index.js';
import type { TaskFigures } from './eval-types.js';
import { taskFigures } from './metrics.js';
import { runTaskRealtime } from './realtime-rig.js';
import { runTask, type ControlSettings, type RunTrace } from './sim-rig.js';
import type { SuiteEntry } from './suite.js';
import { plotRun } from './svg-plot.js';

/** The daemon's defaults (edge/config.ts) unless told otherwise. */
export const DEFAULT_SETTINGS: ControlSettings = {
  rateHz: 200, stepMs: 20, initialLatencyMs: 30, feeder: {}, observationRateHz: 10, planValidityMs: 1000,
};

export type EvalMode = 'simulated' | 'real-time';

export interface EvalReport {
  mode: EvalMode;
  /** Real time: the machine's 1-minute load average at the start and the end (its figures depend on it). */
  loadAverage?: { start: number; end: number };
  settings: ControlSettings;
  runs: TaskFigures[];
  summary: SummaryRow[];
  failures: string[];
}

export interface SummaryRow {
  decoder: string;
  execution: string;
  brainLatencyMs: number;
  runs: number;
  successRate: number;
  /** Median over runs of completion / plan time. */
  completionRatioMedian: number | null;
  trackingRmsMedianRad: number;
  /** Max over runs of the commanded velocity RMS at rest (rad/s) and position std at rest (deg). */
  restVelocityRmsMax: number;
  restPositionStdDegMax: number;
  /** Median and max over runs of the peak jerk in motion, rad/s³. */
  peakJerkMedian: number;
  peakJerkMax: number;
  clamps: number;
  /** HOLDs for want of a chunk (the supervisor's 'chunk-exhausted'), summed over runs. */
  chunkHolds: number;
}

export interface RunEvalOptions {
  /** Default 'simulated' (sim-rig.ts); 'real-time' runs each task through the daemon (realtime-rig.ts). */
  mode?: EvalMode;
  settings?: ControlSettings;
  /** Where plots go; none when absent. */
  plotDir?: string;
  /** Plot only runs this predicate selects (default: all). */
  plotIf?: (e: SuiteEntry) => boolean;
  /** Decoder bytes per profile; default the profile's reference velocity decoder. */
  decoderBytes?: (profile: string) => Uint8Array;
  onRun?: (f: TaskFigures, index: number, total: number) => void;
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function referenceDecoderBytes(): (profile: string) => Uint8Array {
  const cache = new Map<string, Uint8Array>();
  return (profile) => {
    let b = cache.get(profile);
    if (b === undefined) {
      const entry = modelCatalog().find((e) => e.name === `reference-${profile}-velocity`);
      if (!entry) throw new Error(`no reference decoder for profile ${JSON.stringify(profile)}`);
      cache.set(profile, (b = entry.build()));
    }
    return b;
  };
}

export function summarise(runs: readonly TaskFigures[]): SummaryRow[] {
  const groups = new Map<string, TaskFigures[]>();
  for (const r of runs) {
    const k = `${r.condition.decoder}|${r.condition.execution}|${r.condition.brainLatencyMs}|${r.condition.planLoss}|${r.condition.decoderLatencyMs}`;
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(r);
  }
  return [...groups.values()].map((g) => {
    const c = (g[0] as TaskFigures).condition;
    const ratios = g.map((r) => r.completionRatio).filter((x): x is number => x !== null);
    return {
      decoder: c.planLoss > 0 ? `${c.decoder} loss ${c.planLoss}` : c.decoderLatencyMs > 100 ? `${c.decoder} @${c.decoderLatencyMs}ms` : c.decoder,
      execution: c.execution, brainLatencyMs: c.brainLatencyMs, runs: g.length,
      successRate: g.filter((r) => r.success).length / g.length,
      completionRatioMedian: ratios.length > 0 ? median(ratios) : null,
      trackingRmsMedianRad: median(g.map((r) => r.trackingRmsRad)),
      restVelocityRmsMax: Math.max(...g.map((r) => r.rest.velocityRms)),
      restPositionStdDegMax: Math.max(...g.map((r) => r.rest.positionStdDeg)),
      peakJerkMedian: median(g.map((r) => r.motion.peakJerk)),
      peakJerkMax: Math.max(...g.map((r) => r.motion.peakJerk)),
      clamps: g.reduce((s, r) => s + r.clamps.velocity + r.clamps.acceleration, 0),
      chunkHolds: g.reduce((s, r) => s + (r.holdCauses['chunk-exhausted'] ?? 0), 0),
    };
  });
}

/** The goals: at rest, commanded velocity RMS <= 0.01 rad/s and position std <= 0.05 deg on every
 * joint; a reach completes within 20 % of the plan's time with no velocity or acceleration clamp. */
export function checkThresholds(runs: readonly TaskFigures[]): string[] {
  const out: string[] = [];
  for (const r of runs) {
    const what = `${r.profile}/${r.task} (${r.condition.execution}, brain ${r.condition.brainLatencyMs} ms)`;
    if (!r.success) out.push(`${what}: did not reach and hold its goal`);
    if (r.task === 'hold') {
      if (!(r.rest.velocityRms <= 0.01)) out.push(`${what}: commanded velocity RMS at rest ${r.rest.velocityRms.toFixed(4)} rad/s > 0.01`);
      if (!(r.rest.positionStdDeg <= 0.05)) out.push(`${what}: commanded position std at rest ${r.rest.positionStdDeg.toFixed(4)} deg > 0.05`);
    }
    if (r.task.startsWith('reach')) {
      if (r.completionRatio === null || !(r.completionRatio <= 1.2)) out.push(`${what}: completed in ${r.completionS?.toFixed(3) ?? 'never'} s, plan ${r.planTimeS.toFixed(3)} s (ratio ${r.completionRatio?.toFixed(3) ?? '-'} > 1.2)`);
      if (r.clamps.velocity + r.clamps.acceleration > 0) out.push(`${what}: ${r.clamps.velocity} velocity and ${r.clamps.acceleration} acceleration clamps`);
    }
  }
  return out;
}

export async function runEval(entries: readonly SuiteEntry[], o: RunEvalOptions = {}): Promise<EvalReport> {
  const settings = o.settings ?? DEFAULT_SETTINGS;
  const bytes = o.decoderBytes ?? referenceDecoderBytes();
  const runs: TaskFigures[] = [];
  if (o.plotDir !== undefined) mkdirSync(o.plotDir, { recursive: true });
  const mode = o.mode ?? 'simulated';
  const load0 = loadavg()[0] ?? 0;
  for (const [i, e] of entries.entries()) {
    let f: TaskFigures;
    let trace: RunTrace;
    if (mode === 'real-time') {
      const rt = await runTaskRealtime(e.task, e.condition, settings);
      trace = rt;
      f = { ...taskFigures(e.task, e.condition, rt, DEFAULT_GOAL_RUNNER.toleranceRad), sampling: { commandsSent: rt.commandsSent, commandsSeen: rt.commandsSeen, clampedCommands: rt.clampedCommands } };
    } else {
      trace = await runTask(e.task, e.condition, bytes(e.task.profile), settings);
      f = taskFigures(e.task, e.condition, trace, DEFAULT_GOAL_RUNNER.toleranceRad);
    }
    runs.push(f);
    o.onRun?.(f, i, entries.length);
    if (o.plotDir !== undefined && (o.plotIf?.(e) ?? true)) {
      const c = e.condition;
      const name = `${e.task.profile}-${e.task.id}-${c.execution}-${c.decoder}-brain${c.brainLatencyMs}${c.planLoss > 0 ? `-loss${c.planLoss}` : ''}${c.decoderLatencyMs > 100 ? `-dec${c.decoderLatencyMs}` : ''}${mode === 'real-time' ? '-realtime' : ''}.svg`;
      const title = `${e.task.profile} "${e.task.instruction}": ${c.execution}, ${c.decoder} decoder, brain ${c.brainLatencyMs} ms${mode === 'real-time' ? ', real time through the daemon' : ''}`;
      writeFileSync(join(o.plotDir, name), plotRun(title, trace.rows, getProfile(e.task.profile).joints.map((j) => j.name)));
    }
  }
  return {
    mode, settings, runs, summary: summarise(runs), failures: checkThresholds(runs),
    ...(mode === 'real-time' ? { loadAverage: { start: load0, end: loadavg()[0] ?? 0 } } : {}),
  };
}

export function renderSummary(rows: readonly SummaryRow[]): string {
  const head = ['decoder', 'execution', 'brain ms', 'runs', 'success', 'completion/plan', 'tracking rms rad', 'rest vel rms rad/s', 'rest pos std deg', 'peak jerk p50', 'peak jerk max', 'v/a clamps', 'chunk holds'];
  const f = (x: number | null, d = 3): string => (x === null || !Number.isFinite(x) ? '-' : Math.abs(x) >= 1000 ? x.toExponential(2) : x.toFixed(d));
  const body = rows.map((r) => [r.decoder, r.execution, String(r.brainLatencyMs), String(r.runs), f(r.successRate, 2), f(r.completionRatioMedian), f(r.trackingRmsMedianRad, 4), f(r.restVelocityRmsMax, 4), f(r.restPositionStdDegMax, 4), f(r.peakJerkMedian, 1), f(r.peakJerkMax, 1), String(r.clamps), String(r.chunkHolds)]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r, k) => r.map((c, i) => (i < 2 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ') + (k === 0 ? '\n' + w.map((x) => '-'.repeat(x)).join('  ') : '')).join('\n');
}
