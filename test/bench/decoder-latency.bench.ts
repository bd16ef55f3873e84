/**
 * Chunk latency of the decoder runtime on this machine's CPU, in-thread (the worker hop is
 * measured by decoder-overhead): p50/p99 per chunk for the reference decoder and each DiT size,
 * for H=16 A=7 and H=50 A=14, at 4 and 10 Euler steps, step-by-step (TS sampler, one
 * session.run per step) and fused (one call), and their ratio. Runs alternate per repetition.
 * SPINAL_BENCH_QUICK=1 keeps only the reference and dit-s.
 */
import { InThreadDecoder } from '../../edge/decoder/in-thread-decoder.js';
import { BENCH_DIMS, benchEmitter, fusedModel, stepModel, type BenchModelName } from './decoder-models.js';
import { stats, type BenchResult, type Scenario } from './harness.js';

const STEPS = [4, 10];
/** Repetitions per model (fewer for the big ones, so a full run stays within minutes on 2 cores). */
const REPS: Record<string, number> = { reference: 60, 'dit-s': 20, 'dit-m': 8, 'dit-l': 4 };

async function timeDecode(d: InThreadDecoder, latent: Float32Array, state: Float32Array, steps: number | undefined): Promise<number> {
  const t0 = performance.now();
  const o = await d.decode(steps === undefined ? { latent, state } : { latent, state, steps }).outcome;
  if (o.status !== 'done') throw new Error(`decode ${o.status}`);
  return performance.now() - t0;
}

export const scenario: Scenario = {
  name: 'decoder-latency',
  description: 'decoder chunk latency p50/p99 per model size, H/A and steps; fused vs step-by-step',
  async run(): Promise<BenchResult> {
    const models: BenchModelName[] = process.env.SPINAL_BENCH_QUICK === '1' ? ['reference', 'dit-s'] : ['reference', 'dit-s', 'dit-m', 'dit-l'];
    const rows: (string | number)[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    for (const name of models) {
      for (const dims of BENCH_DIMS) {
        const emitter = benchEmitter(name, dims);
        const step = await InThreadDecoder.load(stepModel(emitter));
        const latent = new Float32Array(step.info.spec.latentDim).fill(0.1);
        const state = new Float32Array(step.info.spec.stateDim);
        const params = emitter.parameterCount;
        for (const steps of STEPS) {
          const fused = await InThreadDecoder.load(fusedModel(emitter, steps));
          const reps = REPS[name] ?? 5;
          const s: number[] = [], f: number[] = [];
          await timeDecode(step, latent, state, steps);
          for (let r = 0; r < reps; r++) {
            s.push(await timeDecode(step, latent, state, steps));
            f.push(await timeDecode(fused, latent, state, undefined));
          }
          await fused.close();
          const ss = stats(s), fs = stats(f);
          const label = `${name} H=${dims.horizon} A=${dims.actionDim} ${steps} steps`;
          rows.push([label, params / 1e6, ss.median, ss.p99, fs.median, fs.p99, fs.median / ss.median, reps]);
          summary[`fused/step ${label}`] = fs.median / ss.median;
        }
        await step.close();
      }
    }
    return {
      scenario: 'decoder-latency',
      title: 'chunk latency on CPU, in-thread, Euler (velocity models), batch 1',
      columns: ['model', 'params M', 'step p50 ms', 'step p99 ms', 'fused p50 ms', 'fused p99 ms', 'fused/step', 'reps'],
      rows,
      summary,
      notes: ['p99 of few repetitions is close to the max', 'DiT weights are seeded random: latency only, no meaning'],
    };
  },
};
