/**
 * Euler and Heun integration of a rectified-flow velocity model, x_t = (1 - t) eps + t x,
 * v = x - eps, from t = 0 (noise) to t = 1 (data) over the uniform times of noise-schedule.ts:
 *   Euler  x <- x + dt v(x, t)
 *   Heun   x~ = x + dt v(x, t);  x <- x + dt/2 (v(x, t) + v(x~, t + dt)), except the last step,
 *          which is a plain Euler step (Karras et al. 2022, Alg. 1): the velocity at t = 1 is
 *          E[x - eps | x] = x, a different branch from its limit t -> 1 (-(x - E x)/(1 - t) for
 *          low-variance data), so a corrector evaluated there is wrong. 2S - 1 evaluations.
 * Precondition: io.x holds the starting noise, copied in ws.noise.
 */
import type { Denoiser } from './denoiser.js';
import type { SamplerResult, SamplerRun } from './sampler-types.js';

export async function sampleFlow(den: Denoiser, times: Float64Array, run: SamplerRun): Promise<SamplerResult> {
  const { io } = den;
  const { x, out } = io;
  const { v1, xSave, noise } = run.workspace;
  const heun = run.options.sampler === 'heun';
  const n = x.length;
  const S = times.length - 1;
  let evaluations = 0;
  for (let i = 0; i < S; i++) {
    const t = times[i] as number;
    const t2 = times[i + 1] as number;
    const dt = t2 - t;
    run.inpainter.applyNoised(x, noise, io.batch, t, 1 - t);
    io.t.fill(t);
    await den.evaluate();
    evaluations++;
    if (run.shouldStop()) return { status: 'stopped', evaluations };
    if (!heun || i === S - 1) {
      for (let j = 0; j < n; j++) x[j] = (x[j] as number) + dt * (out[j] as number);
      continue;
    }
    xSave.set(x);
    v1.set(out);
    for (let j = 0; j < n; j++) x[j] = (x[j] as number) + dt * (out[j] as number);
    run.inpainter.applyNoised(x, noise, io.batch, t2, 1 - t2);
    io.t.fill(t2);
    await den.evaluate();
    evaluations++;
    if (run.shouldStop()) return { status: 'stopped', evaluations };
    const h = dt / 2;
    for (let j = 0; j < n; j++) x[j] = (xSave[j] as number) + h * ((v1[j] as number) + (out[j] as number));
  }
  run.inpainter.applyFinal(x, io.batch);
  return { status: 'done', evaluations };
}
