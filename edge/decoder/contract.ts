/**
 * The decoder model contract: what an ONNX action decoder must look like for the edge runtime to
 * load it, configure itself from it, and refuse it when it does not fit. Users export their own
 * models to this contract (models/EXPORT.md shows how from PyTorch); `spinal models` writes the project's
 * reference and benchmark decoders to it.
 *
 * Two kinds of model:
 * - `denoiser`: one denoising step. The runtime's samplers call it `steps` times.
 *     inputs   latent  float32 [B, Dz]     the brain's plan
 *              state   float32 [B, Ds]     the robot's state, normalised with state_mean/state_std
 *              x_t     float32 [B, H, A]   the noisy action chunk, normalised space
 *              t       float32 [B]         epsilon: the training timestep index k in [0, T-1];
 *                                          velocity: flow time in [0, 1], 0 = noise, 1 = data
 *              prefix, prefix_mask         optional, only when supports_prefix: committed actions
 *                      [B, H, A], [B, H]   (normalised) and 1 where committed, 0 elsewhere
 *     output   out     float32 [B, H, A]   epsilon (the noise) or velocity (data minus noise)
 * - `fused`: the whole sampling loop in one call, deterministic given its noise.
 *     inputs   latent, state as above; noise float32 [B, H, A] (the starting sample);
 *              prefix, prefix_mask as above when supports_prefix
 *     output   actions float32 [B, H, A]  normalised space
 *
 * Conventions. Epsilon (DDPM/DDIM): x_k = sqrt(abar_k) x + sqrt(1 - abar_k) eps, abar from the
 * beta schedule over T = train_steps. Velocity (rectified flow): x_t = (1 - t) eps + t x,
 * v = x - eps, integrated from t = 0 to t = 1. Actions are normalised as (a - action_mean) /
 * action_std per action dimension; the runtime de-normalises what it returns.
 */

/** ONNX metadata_props keys. Every value is a string; numbers in decimal, vectors as JSON arrays. */
export const MetaKey = {
  CONTRACT: 'spinal.contract',
  KIND: 'spinal.kind',
  PARAMETERIZATION: 'spinal.parameterization',
  HORIZON: 'spinal.horizon',
  ACTION_DIM: 'spinal.action_dim',
  LATENT_DIM: 'spinal.latent_dim',
  STATE_DIM: 'spinal.state_dim',
  DEFAULT_STEPS: 'spinal.default_steps',
  /** epsilon only */
  TRAIN_STEPS: 'spinal.train_steps',
  BETA_SCHEDULE: 'spinal.beta_schedule',
  BETA_START: 'spinal.beta_start',
  BETA_END: 'spinal.beta_end',
  /** fused only: the sampler and step count baked into the graph */
  FUSED_SAMPLER: 'spinal.fused_sampler',
  FUSED_STEPS: 'spinal.fused_steps',
  ACTION_MEAN: 'spinal.action_mean',
  ACTION_STD: 'spinal.action_std',
  STATE_MEAN: 'spinal.state_mean',
  STATE_STD: 'spinal.state_std',
  /** Which latent space the model decodes, e.g. "spinal.reference-goal/2"; brains announce theirs. */
  LATENT_SPACE: 'spinal.latent_space',
  SUPPORTS_PREFIX: 'spinal.supports_prefix',
  NAME: 'spinal.name',
} as const;

export const CONTRACT_VERSION = 'spinal.decoder/1';

export const InputName = {
  LATENT: 'latent',
  STATE: 'state',
  X_T: 'x_t',
  T: 't',
  NOISE: 'noise',
  PREFIX: 'prefix',
  PREFIX_MASK: 'prefix_mask',
} as const;

export const OutputName = { OUT: 'out', ACTIONS: 'actions' } as const;

export type DecoderKind = 'denoiser' | 'fused';
export type Parameterization = 'epsilon' | 'velocity';
export type BetaSchedule = 'linear' | 'scaled_linear' | 'cosine';
export type FusedSampler = 'ddim' | 'euler';

/** What the runtime learns from a model's metadata. */
export interface DecoderSpec {
  name: string;
  kind: DecoderKind;
  parameterization: Parameterization;
  horizon: number;
  actionDim: number;
  latentDim: number;
  stateDim: number;
  defaultSteps: number;
  /** epsilon models */
  trainSteps: number | null;
  betaSchedule: BetaSchedule | null;
  betaStart: number | null;
  betaEnd: number | null;
  /** fused models */
  fusedSampler: FusedSampler | null;
  fusedSteps: number | null;
  actionMean: Float32Array;
  actionStd: Float32Array;
  stateMean: Float32Array;
  stateStd: Float32Array;
  latentSpace: string;
  supportsPrefix: boolean;
}
