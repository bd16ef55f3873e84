/**
 * Closed-loop motion quality (`spinal eval --suite full`, simulated time): every task of the
 * reference brain on both virtual robots, for each switching policy and stop-and-go execution
 * (the peer: each chunk waited for before moving, as in the real-time chunking paper) at 0, 100,
 * 300 and 500 ms of brain latency, with the reference decoder and at DiT-S's decode latency.
 * Simulated time makes the figures independent of the machine's load; only the wall time is not.
 * SPINAL_BENCH_EVAL_FILTER limits the tasks ("arm6-gripper/hold", "reach", ...). The same suite in real
 * time through the daemon, beside simulated time: motion-quality-realtime.
 */
import { join } from 'node:path';
import { DEFAULT_EXECUTION } from '../../bin/eval/suite.js';
import { runEvalCommand } from '../../bin/eval/eval-command.js';
import { repoRoot, type BenchResult, type Scenario } from './harness.js';

export const scenario: Scenario = {
  name: 'motion-quality',
  description: 'closed-loop eval in simulated time: success, completion, tracking, jitter at rest and peak jerk per switching policy, brain latency and decoder, stop-and-go as the peer',
  async run(): Promise<BenchResult> {
    const filter = process.env['SPINAL_BENCH_EVAL_FILTER'];
    const out = join(repoRoot(), 'test', 'bench', 'results', 'motion-quality');
    const { report } = await runEvalCommand({ suite: 'full', out, quiet: true, ...(filter !== undefined ? { filter } : {}) });
    const rows = report.summary.map((r) => [r.decoder, r.execution, r.brainLatencyMs, r.runs, r.successRate, r.completionRatioMedian ?? Number.NaN,
      r.trackingRmsMedianRad, r.restVelocityRmsMax, r.restPositionStdDegMax, r.peakJerkMedian, r.clamps, r.chunkHolds]);
    const summary: Record<string, number | string | boolean> = { default_policy: DEFAULT_EXECUTION };
    for (const lat of [0, 300]) {
      const pick = (ex: string) => report.summary.find((r) => r.decoder === 'reference' && r.execution === ex && r.brainLatencyMs === lat);
      const d = pick(DEFAULT_EXECUTION), p = pick('stop-and-go');
      if (d !== undefined && p !== undefined && d.completionRatioMedian !== null && p.completionRatioMedian !== null) {
        summary[`completion_vs_stop_and_go_${lat}ms`] = d.completionRatioMedian / p.completionRatioMedian;
        summary[`success_default_${lat}ms`] = d.successRate;
        summary[`success_stop_and_go_${lat}ms`] = p.successRate;
      }
    }
    return {
      scenario: 'motion-quality',
      title: `closed-loop eval, ${report.runs.length} runs in simulated time (report and plots in ${out})`,
      columns: ['decoder', 'execution', 'brain ms', 'runs', 'success', 'completion/plan p50', 'tracking rms rad p50', 'rest vel rms max', 'rest pos std deg max', 'peak jerk p50 rad/s³', 'v/a clamps', 'chunk holds'],
      rows,
      summary,
      notes: ['medians over tasks of both profiles; simulated time, so the figures do not depend on the machine load',
        'dit-s: the reference chunks at the DiT-S decode latency measured on this machine (the benchmark DiTs are untrained)'],
    };
  },
};
