/**
 * DDIM (Song et al. 2021) and DDPM ancestral sampling for epsilon models, over the timesteps of
 * noise-schedule.ts. With abar = abar_k and abar' the next (lower) level, 1 after the last step:
 *   x0    = (x - sqrt(1 - abar) eps) / sqrt(abar)
 *   sigma = eta * sqrt((1 - abar') / (1 - abar)) * sqrt(1 - abar / abar')
 *   x'    = sqrt(abar') x0 + sqrt(1 - abar' - sigma^2) eps + sigma z,   z ~ N(0, 1)
 * eta = 0 is deterministic DDIM; eta = 1 is DDPM's posterior q(x' | x, x0) (its beta-tilde
 * variance), which is why `ddpm` runs this loop with eta = 1. No clipping of x0: normalised
 * actions are not bounded. Precondition: io.x holds the starting noise, copied in ws.noise.
 */
import type { Denoiser } from './denoiser.js';
import type { SamplerResult, SamplerRun } from './sampler-types.js';

export async function sampleEpsilon(den: Denoiser, abar: Float64Array, timesteps: Int32Array, run: SamplerRun): Promise<SamplerResult> {
  const { io } = den;
  const { x, out } = io;
  const eta = run.options.sampler === 'ddpm' ? 1 : run.options.eta;
  const n = x.length;
  const S = timesteps.length;
  let evaluations = 0;
  for (let i = 0; i < S; i++) {
    const k = timesteps[i] as number;
    const ab = abar[k] as number;
    const abPrev = i + 1 < S ? (abar[timesteps[i + 1] as number] as number) : 1;
    const sa = Math.sqrt(ab);
    const s1a = Math.sqrt(1 - ab);
    run.inpainter.applyNoised(x, run.workspace.noise, io.batch, sa, s1a);
    io.t.fill(k);
    await den.evaluate();
    evaluations++;
    if (run.shouldStop()) return { status: 'stopped', evaluations };
    const sigma = eta === 0 ? 0 : eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
    const cx0 = Math.sqrt(abPrev);
    const cEps = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
    for (let j = 0; j < n; j++) {
      const eps = out[j] as number;
      const x0 = ((x[j] as number) - s1a * eps) / sa;
      let next = cx0 * x0 + cEps * eps;
      if (sigma !== 0) next += sigma * run.stepNoise.next();
      x[j] = next;
    }
  }
  run.inpainter.applyFinal(x, io.batch);
  return { status: 'done', evaluations };
}
