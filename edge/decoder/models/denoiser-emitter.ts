/**
 * A model as graph-emitting code, so one description yields both the per-step `denoiser` model
 * and the `fused` model (fused-decoder.ts) without duplicating weights: `prepare` emits the
 * initializers and the latent/state-only subgraph once, and the returned step function emits one
 * evaluation of the network on (x, t), reusing those initializers, as many times as asked.
 */
import { GraphBuilder } from '../../../proto/onnx/index.js';
import { InputName, OutputName, type DecoderSpec } from '../contract.js';
import { writeSpecMetadata } from './decoder-options.js';

/** Emits one network evaluation; `x` is [B, H, A], `t` is [B] or [1] (broadcast over the batch). */
export type StepEmitter = (x: string, t: string) => string;

export interface DenoiserEmitter {
  /** The spec of the per-step denoiser (kind 'denoiser'). */
  spec: DecoderSpec;
  /** Learnable parameter count of the network (0 for the closed-form reference). */
  parameterCount: number;
  prepare(g: GraphBuilder, latent: string, state: string): StepEmitter;
}

/** Declares the inputs every decoder model shares: latent [B, Dz], state [B, Ds]. */
export function declareConditioning(g: GraphBuilder, spec: DecoderSpec): { latent: string; state: string } {
  return {
    latent: g.input(InputName.LATENT, ['B', spec.latentDim]),
    state: g.input(InputName.STATE, ['B', spec.stateDim]),
  };
}

/** The ONNX bytes of the per-step denoiser model of `emitter` (kind 'denoiser'). */
export function buildDenoiserModel(emitter: DenoiserEmitter): Uint8Array {
  const { spec } = emitter;
  const g = new GraphBuilder({ name: spec.name, docString: `${spec.name}: spinal decoder (denoiser)` });
  const { latent, state } = declareConditioning(g, spec);
  const x = g.input(InputName.X_T, ['B', spec.horizon, spec.actionDim]);
  const t = g.input(InputName.T, ['B']);
  const step = emitter.prepare(g, latent, state);
  g.op('Identity', [step(x, t)], {}, OutputName.OUT);
  g.output(OutputName.OUT, ['B', spec.horizon, spec.actionDim]);
  writeSpecMetadata(g, spec);
  return g.toBytes();
}
