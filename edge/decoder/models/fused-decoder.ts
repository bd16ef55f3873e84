/**
 * Fused decoders: the whole sampling loop unrolled inside one ONNX graph (kind 'fused'). Every
 * step re-evaluates the same network on the same initializers (weights are stored once); the
 * timesteps become constants, which onnxruntime folds. Deterministic given `noise`.
 *
 * DDIM (eta = 0, epsilon models), timesteps k_0 > ... > k_{S-1} from the runtime's ddimTimesteps
 * (../noise-schedule.ts, trailing spacing; shared so fused and step-by-step agree), abar_{k_S} := 1:
 *   eps = f(x, k_i);  x <- sqrt(abar_{i+1}) (x - sqrt(1 - abar_i) eps) / sqrt(abar_i) + sqrt(1 - abar_{i+1}) eps
 *       =  c1 x + c2 eps,  c1 = sqrt(abar_{i+1} / abar_i),  c2 = sqrt(1 - abar_{i+1}) - c1 sqrt(1 - abar_i)
 * Euler (velocity models), t_i = i / S:  x <- x + (1 / S) f(x, t_i).
 * The coefficients are computed in float64 and baked as float32 scalars.
 */
import { GraphBuilder } from '../../../proto/onnx/index.js';
import { InputName, OutputName, type DecoderSpec, type FusedSampler } from '../contract.js';
import { writeSpecMetadata } from './decoder-options.js';
import { declareConditioning, type DenoiserEmitter } from './denoiser-emitter.js';
import { alphasCumprod, ddimTimesteps } from '../noise-schedule.js';

export interface FusedOptions {
  sampler: FusedSampler;
  steps: number;
  /** Default: `${inner name}-fused-${sampler}${steps}`. */
  name?: string;
}

export function fusedSpec(inner: DecoderSpec, o: FusedOptions): DecoderSpec {
  return {
    ...inner,
    name: o.name ?? `${inner.name}-fused-${o.sampler}${o.steps}`,
    kind: 'fused',
    defaultSteps: o.steps,
    fusedSampler: o.sampler,
    fusedSteps: o.steps,
  };
}

/** One sampler update: x_next = c1 * x + c2 * f(x, t). */
export interface SamplerStep { t: number; c1: number; c2: number }

/** The unrolled update sequence of `sampler` for a model of spec `spec` (also a TS oracle for tests). */
export function samplerSteps(spec: DecoderSpec, sampler: FusedSampler, steps: number): SamplerStep[] {
  if (sampler === 'ddim') {
    if (spec.parameterization !== 'epsilon' || spec.trainSteps === null || spec.betaSchedule === null
      || spec.betaStart === null || spec.betaEnd === null) {
      throw new Error(`the DDIM sampler needs an epsilon model with a beta schedule (${spec.name} is ${spec.parameterization})`);
    }
    const abar = alphasCumprod({ schedule: spec.betaSchedule, trainSteps: spec.trainSteps, betaStart: spec.betaStart, betaEnd: spec.betaEnd });
    const ks = Array.from(ddimTimesteps(spec.trainSteps, steps));
    return ks.map((k, i) => {
      const ab = abar[k] as number;
      const next = i + 1 < ks.length ? (abar[ks[i + 1] as number] as number) : 1;
      const c1 = Math.sqrt(next / ab);
      return { t: k, c1, c2: Math.sqrt(1 - next) - c1 * Math.sqrt(1 - ab) };
    });
  }
  if (spec.parameterization !== 'velocity') {
    throw new Error(`the Euler sampler needs a velocity model (${spec.name} is ${spec.parameterization})`);
  }
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`Euler steps must be an integer >= 1, got ${steps}`);
  return Array.from({ length: steps }, (_, i) => ({ t: i / steps, c1: 1, c2: 1 / steps }));
}

/** The ONNX bytes of the fused model: inputs latent, state, noise; output actions. */
export function buildFusedDecoder(inner: DenoiserEmitter, o: FusedOptions): Uint8Array {
  const spec = fusedSpec(inner.spec, o);
  const plan = samplerSteps(inner.spec, o.sampler, o.steps);
  const g = new GraphBuilder({ name: spec.name, docString: `${spec.name}: spinal decoder (fused ${o.sampler}, ${o.steps} steps)` });
  const { latent, state } = declareConditioning(g, spec);
  let x = g.input(InputName.NOISE, ['B', spec.horizon, spec.actionDim]);
  const step = inner.prepare(g, latent, state);
  for (const s of plan) {
    const f = step(x, g.constFloat([s.t], [1]));
    const fx = g.op('Mul', [f, g.constFloat([s.c2], [])]);
    x = g.op('Add', [s.c1 === 1 ? x : g.op('Mul', [x, g.constFloat([s.c1], [])]), fx]);
  }
  g.op('Identity', [x], {}, OutputName.ACTIONS);
  g.output(OutputName.ACTIONS, ['B', spec.horizon, spec.actionDim]);
  writeSpecMetadata(g, spec);
  return g.toBytes();
}
