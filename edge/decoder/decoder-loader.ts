/**
 * Loading a decoder model into this thread: inspect the bytes (metadata, declared I/O), check the
 * robot's dims, create the session with provider fallback, check the session's own view of the
 * inputs and outputs, wrap it in the Denoiser or FusedModel seam, and warm it up with one
 * evaluation (which must be finite). Everything that does not fit is refused with a DecoderError.
 */
import type ort from 'onnxruntime-node';
import type { DecoderSpec } from './contract.js';
import { DecoderCore } from './decoder-core.js';
import { DecoderError } from './decoder-error.js';
import { inspectModel } from './model-inspection.js';
import { checkModelIo, checkSpecAgainstRobot, type IoDecl, type RobotDims } from './model-io-checks.js';
import { OrtDenoiser, OrtFusedModel } from './ort-models.js';
import { createSessionWithFallback, type OrtSessionOptions, type ProviderFailure } from './ort-session.js';

export interface DecoderLoadOptions extends OrtSessionOptions {
  /** Chunks per call (B); default the batch the graph fixes, else 1. */
  batch?: number;
  /** When given, the model's action and state dims must match. */
  robot?: RobotDims;
  /** One evaluation at load (default true), so the first real decode pays no first-run cost. */
  warmup?: boolean;
}

export interface LoadedModelInfo {
  spec: DecoderSpec;
  batch: number;
  /** The execution provider that runs the model. */
  provider: string;
  /** Providers tried before it, with why they failed. */
  fallbacks: ProviderFailure[];
  loadMs: number;
  warmupMs: number;
}

export interface LoadedDecoder {
  core: DecoderCore;
  info: LoadedModelInfo;
  session: ort.InferenceSession;
}

function sessionDecls(meta: readonly ort.InferenceSession.ValueMetadata[]): IoDecl[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, isFloat32: m.type === 'float32', dims: m.shape } : { name: m.name, isFloat32: false, dims: [] }));
}

export async function loadDecoder(bytes: Uint8Array, o: DecoderLoadOptions = {}): Promise<LoadedDecoder> {
  const t0 = performance.now();
  const inspected = inspectModel(bytes);
  const { spec } = inspected;
  if (o.robot !== undefined) checkSpecAgainstRobot(spec, o.robot);
  const batch = o.batch ?? inspected.fixedBatch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new DecoderError('bad-request', `batch ${batch} is not an integer >= 1`);
  if (inspected.fixedBatch !== null && inspected.fixedBatch !== batch) {
    throw new DecoderError('shape-mismatch', `model ${JSON.stringify(spec.name)} fixes batch ${inspected.fixedBatch}; asked for batch ${batch}`);
  }
  const { session, provider, fallbacks } = await createSessionWithFallback(bytes, o);
  try {
    // The session's view must agree with the file's (it is what actually runs).
    checkModelIo(spec, sessionDecls(session.inputMetadata), sessionDecls(session.outputMetadata));
    const core = new DecoderCore(spec, spec.kind === 'denoiser'
      ? { kind: 'denoiser', denoiser: new OrtDenoiser(session, spec, batch) }
      : { kind: 'fused', fused: new OrtFusedModel(session, spec, batch) });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    if (o.warmup ?? true) await warmup(core, spec);
    return { core, session, info: { spec, batch, provider, fallbacks, loadMs, warmupMs: performance.now() - t1 } };
  } catch (e) {
    await session.release();
    throw e;
  }
}

/** One decode at the normalised origin with one step; a non-finite result refuses the model. */
async function warmup(core: DecoderCore, spec: DecoderSpec): Promise<void> {
  const latent = new Float32Array(spec.latentDim);
  try {
    await core.decode({ latent, state: spec.stateMean, seed: 1, ...(spec.kind === 'denoiser' ? { steps: 1 } : {}) }, () => false);
  } catch (e) {
    if (e instanceof DecoderError && e.code === 'non-finite') {
      throw new DecoderError('non-finite', `warm-up refused the model: ${e.message}`, e.detail);
    }
    throw e;
  }
}
