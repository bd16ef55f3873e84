/**
 * The model-based safety test's long run: random sequences against the composed edge safety path
 * (test/model), every invariant checked after every step, for a fixed wall-clock budget. Reports
 * sequences explored per second (and per-sequence wall time), against the simulated time those
 * sequences cover: the peer figure is real time, i.e. how many times faster than the robot would
 * live through the same interleavings the model explores them. A violation fails the benchmark
 * with fast-check's seed, path and shrunk sequence.
 */
import { cpus, loadavg } from 'node:os';
import { stats, type BenchResult, type Scenario } from './harness.js';

/** Wall-clock budget, s (SAFETY_MODEL_BENCH_S overrides). */
const BUDGET_S = Number(process.env['SAFETY_MODEL_BENCH_S'] ?? 120);

export const scenario: Scenario = {
  name: 'safety-model',
  description: 'model-based safety test, long run: sequences explored per second, all invariants checked',
  async run(): Promise<BenchResult> {
    // Loaded here: fast-check is a development dependency, needed by this scenario only.
    const fc = (await import('fast-check')).default;
    const { safetyProperty } = await import('../model/safety-commands.js');
    const wall: number[] = [];
    const sim: number[] = [];
    let commands = 0, motion = 0, transitions = 0;
    const load0 = loadavg()[0] ?? 0;
    const t0 = performance.now();
    const details = await fc.check(safetyProperty({
      maxCommands: 30,
      onSequence: (s) => {
        wall.push(s.wallMs);
        sim.push(s.simulatedMs);
        commands += s.commands;
        motion += s.motionCommands;
        transitions += s.transitions;
      },
    }), { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: BUDGET_S * 1000, markInterruptAsFailure: false });
    const elapsedS = (performance.now() - t0) / 1000;
    if (details.failed) throw new Error(`safety model: invariant violated: ${String((details.errorInstance as Error | null)?.message)}\n${fc.defaultReportMessage(details) ?? ""}`);
    const w = stats(wall), sm = stats(sim);
    const n = wall.length;
    const simTotalS = sim.reduce((a, b) => a + b, 0) / 1000;
    return {
      scenario: 'safety-model',
      title: `model-based safety test for ${BUDGET_S} s: ${n} sequences, every invariant after every step`,
      columns: ['measure', 'n', 'p50', 'p99', 'max'],
      rows: [
        ['wall ms per sequence', w.n, w.median, w.p99, w.max],
        ['simulated ms per sequence', sm.n, sm.median, sm.p99, sm.max],
      ],
      summary: {
        'sequences per second': n / elapsedS,
        'commands per second': commands / elapsedS,
        'simulated s per wall s (peer: real time = 1)': simTotalS / elapsedS,
        'motion commands checked': motion,
        'supervisor transitions checked': transitions,
        'seed': String(details.seed),
      },
      notes: [
        `one process, ${cpus().length} cores, load average ${load0.toFixed(1)} at the start (shared machine: other work ran alongside)`,
        '`npm test` runs the same property for a bounded number of sequences (test/model/safety.model.test.ts)',
      ],
    };
  },
};
