/**
 * The camera frame as the model sees it: a JPEG of the configured size in a data URL (the form
 * vLLM, Ollama and llama-server all take in an image_url content part). A JPEG that already has
 * that size goes as is; any other frame is decoded and resized in the brain's image decoder pool
 * (off the event loop, within its limits) and encoded again in a worker thread
 * (jpeg-encode-worker.mjs): the encoder took 100-300 ms per frame on the event loop in the
 * vlm-planner-latency bench, stalling every robot's plans. Once per model call, never per
 * observation.
 *
 * Invariant: every encode settles; a worker that fails or exits fails what it held and is
 * replaced on the next call.
 */
import { Worker } from 'node:worker_threads';
import type { CameraFrame } from '../../../proto/brain/index.js';
import { workerScriptPath } from '../worker-script.js';
import { DEFAULT_DECODER_POOL, DEFAULT_IMAGE_LIMITS, ImageDecoderPool } from '../images/image-decoder-pool.js';
import type { ImageDecodingOptions } from '../images/image-preparer.js';
import { readJpegHeader } from '../images/jpeg-header.js';

export interface ImageSize {
  width: number;
  height: number;
}

export type FrameImage = { ok: true; dataUrl: string; passedThrough: boolean } | { ok: false; message: string };

export class FrameImager {
  private pool: ImageDecoderPool | null = null;
  private encoder: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(private readonly size: ImageSize, private readonly quality: number, private readonly decoding: ImageDecodingOptions = {}) {}

  async dataUrl(frame: CameraFrame): Promise<FrameImage> {
    if (frame.encoding === 'jpeg') {
      const h = readJpegHeader(frame.data);
      if (h.ok && h.header.width === this.size.width && h.header.height === this.size.height) {
        return { ok: true, dataUrl: `data:image/jpeg;base64,${Buffer.from(frame.data).toString('base64')}`, passedThrough: true };
      }
    }
    const { budgetMsPerS: _b, burstMs: _u, ...o } = this.decoding;
    const set = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    this.pool ??= new ImageDecoderPool({ ...DEFAULT_IMAGE_LIMITS, ...DEFAULT_DECODER_POOL, workers: 1, ...set });
    const W = this.size.width, H = this.size.height;
    const out = await this.pool.decode(frame, { width: W, height: H, mean: [0, 0, 0], std: [1, 1, 1] });
    if (!out.ok) return { ok: false, message: `camera "${frame.cameraId}": ${out.message}` };
    let jpegBytes: Uint8Array;
    try {
      jpegBytes = await this.encode(out.nchw, W, H);
    } catch (e) {
      return { ok: false, message: `camera "${frame.cameraId}": the frame could not be encoded again: ${(e as Error).message}` };
    }
    return { ok: true, dataUrl: `data:image/jpeg;base64,${Buffer.from(jpegBytes).toString('base64')}`, passedThrough: false };
  }

  private encode(nchw: Float32Array, width: number, height: number): Promise<Uint8Array> {
    if (this.encoder === null) {
      const w = new Worker(workerScriptPath(import.meta.url, 'cloud/backends/vlm-planner', 'jpeg-encode-worker.mjs'));
      const failAll = (why: string): void => {
        if (this.encoder === w) this.encoder = null;
        for (const p of this.pending.values()) p.reject(new Error(why));
        this.pending.clear();
      };
      w.on('message', (m: { id: number; ok: boolean; jpeg?: Uint8Array; message?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok && m.jpeg !== undefined) p?.resolve(m.jpeg); else p?.reject(new Error(m.message ?? 'encoder failed'));
      });
      w.on('error', (e) => failAll(`the JPEG encoder thread failed: ${e.message}`));
      w.on('exit', () => failAll('the JPEG encoder thread exited'));
      w.unref();
      this.encoder = w;
    }
    const id = this.nextId++;
    const w = this.encoder;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, nchw, width, height, quality: this.quality }, [nchw.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
    const w = this.encoder;
    this.encoder = null;
    await w?.terminate();
  }
}
