/**
 * The ONNX backend: a user's exported policy (images + state + instruction -> latent, the contract
 * of model-contract.ts and ONNX_BACKEND.md) run by onnxruntime-node on the CPU (or a configured
 * execution provider). The model is read once at load: its inputs, output and the metadata key
 * "spinal.latent_space" must fit the contract, or loading fails with a message naming the misfit.
 *
 * One batch = one run with the batch dimension B = batch size, in a worker thread (ort-worker.mjs):
 * onnxruntime-node's run occupies the thread that calls it, and the brain's event loop must keep
 * serving every session meanwhile. Runs are serialised in the worker; a run past the batch's
 * deadline is answered BACKEND_TIMEOUT by the batcher and its late result dropped. Camera frames
 * are decoded by prepare() in the image decoder pool (images/), before batching.
 */
import { readFileSync } from 'node:fs';
import { readModel } from '../../../proto/onnx/index.js';
import type { Hello } from '../../../proto/brain/index.js';
import type { BrainBackend, InferContext, InferRequest, InferResult, PrepareResult } from '../backend.js';
import { ImagePreparer, prepareBatch, type ImageDecodingOptions } from '../images/image-preparer.js';
import { contractAccepts, contractFromTensors, OUTPUT_LATENT, type ModelContract } from '../model-contract.js';
import { buildBatchInputs, DEFAULT_IMAGE_NORM } from '../model-inputs.js';
import { OrtWorker } from './ort-worker-client.js';

export const META_LATENT_SPACE = 'spinal.latent_space';
export const META_IMAGE_MEAN = 'spinal.image_mean';
export const META_IMAGE_STD = 'spinal.image_std';

export interface OnnxBackendOptions {
  /** A model file path, or its bytes. */
  model: string | Uint8Array;
  /** Overrides the model's "spinal.latent_space" metadata. */
  latentSpace?: string;
  /** Which camera feeds "images" (default: the observation's first frame). */
  cameraId?: string;
  /** onnxruntime execution providers in order (default ['cpu']). */
  providers?: string[];
  intraOpThreads?: number;
  /** Limits and pool size of camera frame decoding (images/image-decoder-pool.ts). */
  imageDecoding?: ImageDecodingOptions;
  /** Most batches waiting for the model (ort-worker-client.ts); more are refused. Default 8. */
  maxQueue?: number;
}

export class OnnxBackendError extends Error {
  override readonly name = 'OnnxBackendError';
}

type Triple = readonly [number, number, number];

function triple(meta: string | undefined, key: string, fallback: Triple): Triple {
  if (meta === undefined) return fallback;
  const v = meta.split(',').map(Number);
  if (v.length !== 3 || !v.every(Number.isFinite)) throw new OnnxBackendError(`metadata "${key}" must be three comma-separated numbers, got "${meta}"`);
  return v as unknown as Triple;
}

export class OnnxBackend implements BrainBackend {
  readonly name = 'onnx';

  /** Decodes camera frames off the event loop; null when the model takes no images. */
  private readonly images: ImagePreparer | null;

  private constructor(
    private readonly worker: OrtWorker,
    readonly contract: ModelContract,
    norm: { mean: Triple; std: Triple },
    cameraId: string | undefined,
    imageDecoding: ImageDecodingOptions | undefined,
  ) {
    this.images = contract.image === null ? null : new ImagePreparer({ ...contract.image, ...norm }, cameraId, imageDecoding);
  }

  static async load(o: OnnxBackendOptions): Promise<OnnxBackend> {
    let bytes: Uint8Array;
    try {
      bytes = typeof o.model === 'string' ? readFileSync(o.model) : o.model;
    } catch (e) {
      throw new OnnxBackendError(`cannot read the model ${String(o.model)}: ${(e as Error).message}`);
    }
    let summary;
    try {
      summary = readModel(bytes);
    } catch (e) {
      throw new OnnxBackendError(`not an ONNX model: ${(e as Error).message}`);
    }
    const latentSpace = o.latentSpace ?? summary.metadata[META_LATENT_SPACE] ?? '';
    const c = contractFromTensors(summary.inputs, summary.outputs, latentSpace);
    if (!c.ok) throw new OnnxBackendError(`the model does not fit the ONNX backend contract: ${c.message}`);
    const norm = {
      mean: triple(summary.metadata[META_IMAGE_MEAN], META_IMAGE_MEAN, DEFAULT_IMAGE_NORM.mean),
      std: triple(summary.metadata[META_IMAGE_STD], META_IMAGE_STD, DEFAULT_IMAGE_NORM.std),
    };
    let worker: OrtWorker;
    try {
      worker = await OrtWorker.start(bytes, {
        providers: o.providers ?? ['cpu'], output: OUTPUT_LATENT,
        ...(o.intraOpThreads !== undefined ? { intraOpThreads: o.intraOpThreads } : {}),
        ...(o.maxQueue !== undefined ? { maxQueue: o.maxQueue } : {}),
      });
    } catch (e) {
      throw new OnnxBackendError(`onnxruntime cannot load the model: ${(e as Error).message}`);
    }
    return new OnnxBackend(worker, c.contract, norm, o.cameraId, o.imageDecoding);
  }

  accepts(h: Hello): string | null {
    return contractAccepts(this.contract, h);
  }

  prepare(r: InferRequest): Promise<PrepareResult> {
    return this.images === null ? Promise.resolve({ ok: true, request: r }) : this.images.prepare(r);
  }

  async infer(requests: readonly InferRequest[], ctx: InferContext): Promise<InferResult[]> {
    const { batch, refused } = await prepareBatch(this.images, requests);
    const { tensors, errors } = buildBatchInputs(batch, this.contract);
    if (ctx.signal.aborted) throw new Error('aborted before the run');
    // Past the batch's deadline (or once the batcher gives up) the run is dropped unstarted.
    const data = await this.worker.run(tensors, { deadlineMs: performance.now() + ctx.timeoutMs, signal: ctx.signal });
    const D = this.contract.latentDim;
    if (data.length !== batch.length * D) throw new Error(`"latent" has ${data.length} values for a batch of ${batch.length} x ${D}`);
    return batch.map((_, i): InferResult => {
      const r = refused[i];
      if (r !== null && r !== undefined) return r;
      const e = errors[i];
      if (e !== null && e !== undefined) return { ok: false, code: 'BAD_OBSERVATION', message: e };
      return { ok: true, latent: data.slice(i * D, (i + 1) * D) };
    });
  }

  /** Work dropped and late answers (ort-worker-client.ts), frames refused (images/). */
  counters(): Record<string, number> {
    const w = this.worker.stats();
    const out: Record<string, number> = { 'model-expired-before-run': w.expiredBeforeRun, 'model-queue-full': w.queueFull, 'model-late-answer': w.lateAnswers };
    if (this.images !== null) {
      const d = this.images.stats();
      out['decoder-terminated'] = d.terminated;
      out['decoder-busy'] = d.refused['decoder-busy'];
      out['decoder-over-budget'] = d.refused['image-budget'];
    }
    return out;
  }

  /** The model's queue now (runs waiting, running). */
  modelQueue(): { queued: number; running: number } {
    const { queued, running } = this.worker.stats();
    return { queued, running };
  }

  endSession(sessionId: string): void {
    this.images?.forget(sessionId);
  }

  async close(): Promise<void> {
    await Promise.all([this.worker.close(), this.images?.close()]);
  }
}
