/**
 * Options shared by every model builder, their defaults, and the contract metadata they produce.
 * A builder resolves its options once (`resolveCommon`) and writes the metadata from a complete
 * DecoderSpec (`writeSpecMetadata`), so what the runtime parses is exactly what the graph does.
 */
import type { GraphBuilder } from '../../../proto/onnx/index.js';
import {
  CONTRACT_VERSION, MetaKey, type BetaSchedule, type DecoderSpec, type Parameterization,
} from '../contract.js';

export interface CommonDecoderOptions {
  actionDim: number;
  /** Default: actionDim (joint positions). */
  stateDim?: number;
  horizon: number;
  parameterization: Parameterization;
  /** Epsilon models: training steps T (default 1000) and the beta schedule (default linear 1e-4..0.02). */
  trainSteps?: number;
  betaSchedule?: BetaSchedule;
  betaStart?: number;
  betaEnd?: number;
  /** Sampler steps the runtime uses unless configured otherwise (default 10). */
  defaultSteps?: number;
  /** Normalisation statistics, per dimension (defaults 0 and 1). */
  actionMean?: readonly number[];
  actionStd?: readonly number[];
  stateMean?: readonly number[];
  stateStd?: readonly number[];
  name?: string;
}

export interface ResolvedCommon {
  actionDim: number;
  stateDim: number;
  horizon: number;
  parameterization: Parameterization;
  trainSteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  defaultSteps: number;
  actionMean: Float64Array;
  actionStd: Float64Array;
  stateMean: Float64Array;
  stateStd: Float64Array;
}

function vec(v: readonly number[] | undefined, n: number, fill: number, what: string, positive = false): Float64Array {
  if (v === undefined) return new Float64Array(n).fill(fill);
  if (v.length !== n) throw new RangeError(`${what} has ${v.length} entries, expected ${n}`);
  for (const x of v) {
    if (!Number.isFinite(x) || (positive && !(x > 0))) throw new RangeError(`${what} holds a bad value ${x}`);
  }
  return Float64Array.from(v);
}

function posInt(x: number, what: string): number {
  if (!Number.isSafeInteger(x) || x < 1) throw new RangeError(`${what} must be a positive integer, got ${x}`);
  return x;
}

export function resolveCommon(o: CommonDecoderOptions): ResolvedCommon {
  const A = posInt(o.actionDim, 'actionDim');
  const S = posInt(o.stateDim ?? A, 'stateDim');
  return {
    actionDim: A,
    stateDim: S,
    horizon: posInt(o.horizon, 'horizon'),
    parameterization: o.parameterization,
    trainSteps: posInt(o.trainSteps ?? 1000, 'trainSteps'),
    betaSchedule: o.betaSchedule ?? 'linear',
    betaStart: o.betaStart ?? 1e-4,
    betaEnd: o.betaEnd ?? 0.02,
    defaultSteps: posInt(o.defaultSteps ?? 10, 'defaultSteps'),
    actionMean: vec(o.actionMean, A, 0, 'actionMean'),
    actionStd: vec(o.actionStd, A, 1, 'actionStd', true),
    stateMean: vec(o.stateMean, S, 0, 'stateMean'),
    stateStd: vec(o.stateStd, S, 1, 'stateStd', true),
  };
}

/** The DecoderSpec of a denoiser built from resolved options. */
export function denoiserSpec(c: ResolvedCommon, extra: { name: string; latentDim: number; latentSpace: string }): DecoderSpec {
  const eps = c.parameterization === 'epsilon';
  return {
    name: extra.name,
    kind: 'denoiser',
    parameterization: c.parameterization,
    horizon: c.horizon,
    actionDim: c.actionDim,
    latentDim: extra.latentDim,
    stateDim: c.stateDim,
    defaultSteps: c.defaultSteps,
    trainSteps: eps ? c.trainSteps : null,
    betaSchedule: eps ? c.betaSchedule : null,
    betaStart: eps ? c.betaStart : null,
    betaEnd: eps ? c.betaEnd : null,
    fusedSampler: null,
    fusedSteps: null,
    actionMean: Float32Array.from(c.actionMean),
    actionStd: Float32Array.from(c.actionStd),
    stateMean: Float32Array.from(c.stateMean),
    stateStd: Float32Array.from(c.stateStd),
    latentSpace: extra.latentSpace,
    supportsPrefix: false,
  };
}

const json = (v: Float32Array): string => JSON.stringify(Array.from(v));

/** Writes every contract key of `spec` (keys whose value is null are omitted). */
export function writeSpecMetadata(g: GraphBuilder, spec: DecoderSpec): void {
  const put = (k: string, v: string | number | null): void => {
    if (v !== null) g.metadata(k, String(v));
  };
  put(MetaKey.CONTRACT, CONTRACT_VERSION);
  put(MetaKey.NAME, spec.name);
  put(MetaKey.KIND, spec.kind);
  put(MetaKey.PARAMETERIZATION, spec.parameterization);
  put(MetaKey.HORIZON, spec.horizon);
  put(MetaKey.ACTION_DIM, spec.actionDim);
  put(MetaKey.LATENT_DIM, spec.latentDim);
  put(MetaKey.STATE_DIM, spec.stateDim);
  put(MetaKey.DEFAULT_STEPS, spec.defaultSteps);
  put(MetaKey.TRAIN_STEPS, spec.trainSteps);
  put(MetaKey.BETA_SCHEDULE, spec.betaSchedule);
  put(MetaKey.BETA_START, spec.betaStart);
  put(MetaKey.BETA_END, spec.betaEnd);
  put(MetaKey.FUSED_SAMPLER, spec.fusedSampler);
  put(MetaKey.FUSED_STEPS, spec.fusedSteps);
  put(MetaKey.ACTION_MEAN, json(spec.actionMean));
  put(MetaKey.ACTION_STD, json(spec.actionStd));
  put(MetaKey.STATE_MEAN, json(spec.stateMean));
  put(MetaKey.STATE_STD, json(spec.stateStd));
  put(MetaKey.LATENT_SPACE, spec.latentSpace);
  put(MetaKey.SUPPORTS_PREFIX, spec.supportsPrefix ? 'true' : 'false');
}
