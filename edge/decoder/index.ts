/** Public API of the decoder runtime (edge/decoder). The model contract is contract.ts; the model
 * toolchain (builders, `spinal models`) is models/. */
export * from './contract.js';
export { DecoderError, type DecoderErrorCode, type DecoderErrorData } from './decoder-error.js';
export type {
  CancelReason, ChunkRequest, DecodeCancelled, DecodeDone, DecodeFailed, DecodeOutcome, DecodeTiming, PrefixConstraint,
} from './decode-request.js';
export type { ActionDecoder, DecodeHandle, DecodeOptions } from './action-decoder.js';
export { WorkerDecoder, type WorkerDecoderOptions } from './worker-decoder.js';
export { InThreadDecoder } from './in-thread-decoder.js';
export { loadDecoder, type DecoderLoadOptions, type LoadedDecoder, type LoadedModelInfo } from './decoder-loader.js';
export type { ModelSource } from './worker-protocol.js';
export { inspectModel, type InspectedModel } from './model-inspection.js';
export { specFromMetadata } from './spec-from-metadata.js';
export { checkModelIo, checkSpecAgainstRobot, expectedIo, type IoDecl, type RobotDims } from './model-io-checks.js';
export { robotDimsFromProfile } from './robot-dims.js';
export { DEFAULT_PROVIDERS, type ProviderFailure } from './ort-session.js';
export { DecoderCore, type CoreResult, type DecoderModel } from './decoder-core.js';
export type { Denoiser, DenoiserIO } from './denoiser.js';
export type { FusedIO, FusedModel } from './fused-model.js';
export { SAMPLER_PARAMETERIZATION, evaluationsFor, samplerMismatch, type SamplerName, type SamplingOptions } from './sampler-types.js';
export { alphasCumprod, ddimTimesteps, flowTimes, type EpsilonSchedule } from './noise-schedule.js';
export { GaussianNoise } from './gaussian-noise.js';
export { decoderWorkerUrl } from './worker-entry.js';
