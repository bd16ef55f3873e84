/**
 * The eval's short suite (holding a pose and a named reach at 0 and 300 ms of brain latency, both
 * profiles, the daemon's default switching policy) twice in one run: in simulated time (one
 * injected clock: deterministic) and in real time through the whole daemon (`spinal eval --mode
 * real-time`: `spinal sim` on a PTY in a tethered child, the edge daemon, the reference brain
 * behind a delaying proxy). One table, the same tasks and conditions side by side; the ratios
 * say what real time (its thread scheduling, serial I/O, gRPC and the machine's load) costs
 * against the control logic alone. Real-time figures depend on the load: the table's title gives
 * the load average. SPINAL_BENCH_EVAL_FILTER limits the tasks.
 */
import { join } from 'node:path';
import { runEvalCommand } from '../../bin/eval/eval-command.js';
import type { SummaryRow } from '../../bin/eval/run-eval.js';
import { repoRoot, type BenchResult, type Cell, type Scenario } from './harness.js';

export const scenario: Scenario = {
  name: 'motion-quality-realtime',
  description: 'the eval\'s short suite in real time through the daemon on a PTY, beside the same suite in simulated time, same run',
  async run(): Promise<BenchResult> {
    const filter = process.env['SPINAL_BENCH_EVAL_FILTER'];
    const base = join(repoRoot(), 'test', 'bench', 'results', 'motion-quality-realtime');
    const opts = { suite: 'short' as const, quiet: true, ...(filter !== undefined ? { filter } : {}) };
    const sim = (await runEvalCommand({ ...opts, mode: 'simulated', out: join(base, 'simulated') })).report;
    const rt = (await runEvalCommand({ ...opts, mode: 'real-time', out: join(base, 'real-time') })).report;
    const coverage = (profile: string | null): number => {
      const runs = rt.runs.filter((r) => profile === null || r.profile === profile);
      const seen = runs.reduce((s, r) => s + (r.sampling?.commandsSeen ?? 0), 0), sent = runs.reduce((s, r) => s + (r.sampling?.commandsSent ?? 0), 0);
      return sent > 0 ? seen / sent : Number.NaN;
    };
    // Per task and latency, so each row pairs the same runs.
    const rows: Cell[][] = [];
    const summary: Record<string, number | string | boolean> = {
      load_average_start: rt.loadAverage?.start ?? Number.NaN, load_average_end: rt.loadAverage?.end ?? Number.NaN,
      commands_recorded_fraction: coverage(null),
    };
    for (const s of sim.runs) {
      const r = rt.runs.find((x) => x.profile === s.profile && x.task === s.task && x.condition.brainLatencyMs === s.condition.brainLatencyMs);
      for (const [mode, f] of [['simulated', s], ['real-time', r]] as const) {
        if (f === undefined) continue;
        rows.push([mode, `${f.profile}/${f.task}`, f.condition.execution, f.condition.brainLatencyMs, f.success ? 1 : 0, f.completionRatio ?? Number.NaN,
          f.trackingRmsRad, f.rest.velocityRms, f.rest.positionStdDeg, f.motion.peakJerk, f.clamps.velocity + f.clamps.acceleration, f.holdCauses['chunk-exhausted'] ?? 0]);
      }
      if (r === undefined) continue;
      const k = `${s.profile}_${s.task}_${s.condition.brainLatencyMs}ms`;
      summary[`success_rt_${k}`] = r.success;
      if (r.completionRatio !== null && s.completionRatio !== null && s.completionRatio > 0) summary[`completion_rt_vs_sim_${k}`] = r.completionRatio / s.completionRatio;
      if (s.task === 'hold') summary[`rest_velocity_rms_rt_${k}`] = r.rest.velocityRms;
    }
    const total = (rs: readonly SummaryRow[]): number => rs.reduce((a, r) => a + r.clamps, 0);
    summary['va_clamps_simulated'] = total(sim.summary);
    summary['va_clamps_real_time'] = total(rt.summary);
    return {
      scenario: 'motion-quality-realtime',
      title: `eval short suite, simulated time against real time through the daemon (load average ${rt.loadAverage?.start.toFixed(1) ?? '?'} → ${rt.loadAverage?.end.toFixed(1) ?? '?'}; reports in ${base})`,
      columns: ['mode', 'task', 'execution', 'brain ms', 'success', 'completion/plan', 'tracking rms rad', 'rest vel rms rad/s', 'rest pos std deg', 'peak jerk rad/s³', 'v/a clamps', 'chunk holds'],
      rows,
      summary,
      notes: [
        'real time: the daemon\'s own reference decoder; commands recorded by sampling the gate\'s lastSent every ms (fraction in the summary); jerk is not taken across a missed command',
        'real-time figures depend on the machine\'s load (the shared 2-core machine); simulated figures do not',
      ],
    };
  },
};
