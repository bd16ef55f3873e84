/**
 * The Triton backend: the same tensor contract as the ONNX backend (model-contract.ts), served by
 * a KServe v2 model server (NVIDIA Triton Inference Server, KServe, MLServer), so a fleet can run
 * its policy on GPUs elsewhere and scale it out. At start it checks the server is live and the
 * model ready, and reads the model's inputs/outputs from ModelMetadata (FP32 only); the latent
 * space is configured (KServe metadata carries no free-form keys).
 *
 * Each batch is one ModelInfer: inputs as raw_input_contents (little-endian FP32, the fast path)
 * or, with `rawContents: false`, as typed fp32_contents; the output is read from
 * raw_output_contents when the server used them, else from the typed contents.
 */
import type { Hello } from '../../../proto/brain/index.js';
import type { BrainBackend, InferContext, InferRequest, InferResult, PrepareResult } from '../backend.js';
import { ImagePreparer, prepareBatch, type ImageDecodingOptions } from '../images/image-preparer.js';
import { contractAccepts, contractFromTensors, OUTPUT_LATENT, type ModelContract } from '../model-contract.js';
import { buildBatchInputs, DEFAULT_IMAGE_NORM } from '../model-inputs.js';
import type { InferTensor, ModelInferResponse } from './kserve-proto.js';
import { TritonClient, type TritonClientOptions } from './triton-client.js';

export interface TritonBackendOptions extends TritonClientOptions {
  model: string;
  /** Model version; empty lets the server choose. */
  version?: string;
  /** The latent space the model's output is in. */
  latentSpace: string;
  /** Send inputs as raw_input_contents (default) or as typed contents. */
  rawContents?: boolean;
  cameraId?: string;
  imageMean?: [number, number, number];
  imageStd?: [number, number, number];
  /** Deadline of the start-up checks (ms). */
  connectTimeoutMs?: number;
  /** Limits and pool size of camera frame decoding (images/image-decoder-pool.ts). */
  imageDecoding?: ImageDecodingOptions;
}

export class TritonBackendError extends Error {
  override readonly name = 'TritonBackendError';
}

/** FP32 values of a tensor from a little-endian byte buffer (copied: the buffer may be unaligned). */
function fp32FromBytes(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

function fp32ToBytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength); // little-endian hosts only (checked by proto/onnx)
}

export class TritonBackend implements BrainBackend {
  readonly name = 'triton';
  private seq = 0;
  /** Decodes camera frames off the event loop; null when the model takes no images. */
  private readonly images: ImagePreparer | null;

  private constructor(private readonly client: TritonClient, private readonly o: TritonBackendOptions, readonly contract: ModelContract) {
    const norm = { mean: o.imageMean ?? DEFAULT_IMAGE_NORM.mean, std: o.imageStd ?? DEFAULT_IMAGE_NORM.std };
    this.images = contract.image === null ? null : new ImagePreparer({ ...contract.image, ...norm }, o.cameraId, o.imageDecoding);
  }

  static async connect(o: TritonBackendOptions): Promise<TritonBackend> {
    const client = new TritonClient(o);
    const t = o.connectTimeoutMs ?? 5000;
    const where = `KServe v2 server at ${o.address}`;
    try {
      if (!(await client.serverLive(t))) throw new TritonBackendError(`${where} is not live`);
      if (!(await client.modelReady(o.model, o.version ?? '', t))) throw new TritonBackendError(`${where}: model "${o.model}" is not ready`);
      const meta = await client.modelMetadata(o.model, o.version ?? '', t);
      const notFp32 = [...meta.inputs, ...meta.outputs].find((x) => x.datatype !== 'FP32');
      if (notFp32 !== undefined) throw new TritonBackendError(`${where}: model "${o.model}" tensor "${notFp32.name}" is ${notFp32.datatype}, the contract is FP32`);
      const c = contractFromTensors(meta.inputs.map((x) => ({ name: x.name, dims: x.shape })), meta.outputs.map((x) => ({ name: x.name, dims: x.shape })), o.latentSpace);
      if (!c.ok) throw new TritonBackendError(`${where}: model "${o.model}" does not fit the contract: ${c.message}`);
      return new TritonBackend(client, o, c.contract);
    } catch (e) {
      client.close();
      if (e instanceof TritonBackendError) throw e;
      throw new TritonBackendError(`${where}: ${(e as Error).message}`);
    }
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
    const raw = this.o.rawContents !== false;
    const inputs: InferTensor[] = tensors.map((t) => ({
      name: t.name, datatype: 'FP32', shape: t.dims, ...(raw ? {} : { contents: { fp32Contents: Array.from(t.data) } }),
    }));
    const res = await this.client.modelInfer({
      modelName: this.o.model, modelVersion: this.o.version ?? '', id: `spinal-${++this.seq}`, inputs,
      outputs: [{ name: OUTPUT_LATENT }], rawInputContents: raw ? tensors.map((t) => fp32ToBytes(t.data)) : [],
    }, ctx.timeoutMs, ctx.signal);
    const latent = readOutput(res, OUTPUT_LATENT);
    const D = this.contract.latentDim;
    if (latent.length !== batch.length * D) throw new Error(`"latent" has ${latent.length} values for a batch of ${batch.length} x ${D}`);
    return batch.map((_, i): InferResult => {
      const r = refused[i];
      if (r !== null && r !== undefined) return r;
      const e = errors[i];
      if (e !== null && e !== undefined) return { ok: false, code: 'BAD_OBSERVATION', message: e };
      return { ok: true, latent: latent.slice(i * D, (i + 1) * D) };
    });
  }

  endSession(sessionId: string): void {
    this.images?.forget(sessionId);
  }

  async close(): Promise<void> {
    this.client.close();
    await this.images?.close();
  }
}

/** An FP32 output by name, from raw_output_contents (same index as in `outputs`) or typed contents. */
export function readOutput(res: ModelInferResponse, name: string): Float32Array {
  const i = res.outputs.findIndex((o) => o.name === name);
  const out = res.outputs[i];
  if (out === undefined) throw new Error(`the response has no output "${name}" (outputs: ${res.outputs.map((o) => o.name).join(', ') || 'none'})`);
  if (out.datatype !== 'FP32') throw new Error(`output "${name}" is ${out.datatype}, expected FP32`);
  if (res.rawOutputContents.length > 0) {
    const b = res.rawOutputContents[i];
    if (b === undefined || b.length % 4 !== 0) throw new Error(`raw_output_contents[${i}] is missing or not a whole number of FP32 values`);
    return fp32FromBytes(b);
  }
  return Float32Array.from(out.contents?.fp32Contents ?? []);
}
