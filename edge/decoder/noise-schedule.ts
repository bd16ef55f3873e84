/**
 * Noise schedules and inference timesteps.
 *
 * Epsilon models (DDPM/DDIM), T = train_steps, k = 0..T-1:
 *   linear         beta_k = linspace(beta_start, beta_end, T)
 *   scaled_linear  beta_k = linspace(sqrt(beta_start), sqrt(beta_end), T)^2
 *   cosine         beta_k = min(1 - f(k+1)/f(k), 0.999), f(s) = cos((s/T + 0.008)/1.008 * pi/2)^2
 *                  (Nichol & Dhariwal 2021; diffusers' "squaredcos_cap_v2")
 *   abar_k = prod_{i<=k} (1 - beta_i)
 *
 * Inference timesteps, S steps: "trailing" spacing (Lin et al. 2024, diffusers'
 * timestep_spacing="trailing"): k_i = round(T - i*T/S) - 1 for i = 0..S-1, descending, so the first
 * step always starts from k = T-1 (nearly pure noise) whatever S is. The step after k_{S-1} goes to
 * abar = 1 (the clean sample; diffusers' set_alpha_to_one). A fused DDIM graph must use the same
 * timesteps for fused and step-by-step sampling to agree: import `ddimTimesteps` from here.
 *
 * Flow models (rectified flow), S steps: t_i = i/S for i = 0..S, uniform from 0 (noise) to 1 (data).
 */
import type { BetaSchedule } from './contract.js';

export interface EpsilonSchedule {
  schedule: BetaSchedule;
  trainSteps: number;
  /** Ignored for cosine. */
  betaStart: number;
  betaEnd: number;
}

/** abar_k for k = 0..T-1, in float64. */
export function alphasCumprod(s: EpsilonSchedule): Float64Array {
  const T = s.trainSteps;
  const betas = new Float64Array(T);
  const lin = (a: number, b: number, k: number): number => (T === 1 ? a : a + ((b - a) * k) / (T - 1));
  for (let k = 0; k < T; k++) {
    switch (s.schedule) {
      case 'linear':
        betas[k] = lin(s.betaStart, s.betaEnd, k);
        break;
      case 'scaled_linear':
        betas[k] = lin(Math.sqrt(s.betaStart), Math.sqrt(s.betaEnd), k) ** 2;
        break;
      case 'cosine': {
        const f = (u: number): number => Math.cos(((u / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
        betas[k] = Math.min(1 - f(k + 1) / f(k), 0.999);
        break;
      }
    }
  }
  const abar = new Float64Array(T);
  let p = 1;
  for (let k = 0; k < T; k++) {
    p *= 1 - (betas[k] as number);
    abar[k] = p;
  }
  return abar;
}

/** The S training timesteps visited by DDIM/DDPM, descending (trailing spacing). */
export function ddimTimesteps(trainSteps: number, steps: number): Int32Array {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new RangeError(`steps must be an integer in 1..${trainSteps} (train_steps), got ${steps}`);
  }
  const out = new Int32Array(steps);
  for (let i = 0; i < steps; i++) out[i] = Math.round(trainSteps - (i * trainSteps) / steps) - 1;
  return out;
}

/** The S+1 flow times 0 = t_0 < ... < t_S = 1. */
export function flowTimes(steps: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be an integer >= 1, got ${steps}`);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) out[i] = i / steps;
  return out;
}
