/**
 * The image half of a backend's per-request preparation (BrainBackend.prepare): picks the frame
 * that feeds the model's "images" input and decodes it in the decoder pool, off the event loop and
 * within its limits. A refused frame is refused for that robot only, naming the value.
 */
import type { CameraFrame } from '../../../proto/brain/index.js';
import type { InferRequest, InferResult, PrepareResult } from '../backend.js';
import { DEFAULT_DECODER_POOL, DEFAULT_IMAGE_LIMITS, ImageDecoderPool, type DecoderPoolOptions, type DecoderStats, type ImageSpec } from './image-decoder-pool.js';

/** Any of the pool's options; unset (or undefined) ones take the defaults. */
export type ImageDecodingOptions = { [K in keyof DecoderPoolOptions]?: DecoderPoolOptions[K] | undefined };

export class ImagePreparer {
  private readonly pool: ImageDecoderPool;

  constructor(private readonly spec: ImageSpec, private readonly cameraId: string | undefined, o: ImageDecodingOptions = {}) {
    const set = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<DecoderPoolOptions>;
    this.pool = new ImageDecoderPool({ ...DEFAULT_IMAGE_LIMITS, ...DEFAULT_DECODER_POOL, ...set });
  }

  /** The frame that feeds "images": the configured camera's, else the first; undefined: none. */
  frameOf(r: InferRequest): CameraFrame | undefined {
    const frames = r.observation.frames;
    return this.cameraId !== undefined ? frames.find((f) => f.cameraId === this.cameraId) : frames[0];
  }

  async prepare(r: InferRequest): Promise<PrepareResult> {
    if (r.prepared !== undefined) return { ok: true, request: r };
    const frame = this.frameOf(r);
    if (frame === undefined) return { ok: true, request: { ...r, prepared: { image: null } } }; // no frame: zeros, documented
    const out = await this.pool.decode(frame, this.spec);
    if (!out.ok) {
      const busy = out.reason === 'decoder-busy' || out.reason === 'decoder-closed';
      return { ok: false, code: busy ? 'OVERLOADED' : 'BAD_OBSERVATION', reason: out.reason, message: out.message };
    }
    return { ok: true, request: { ...r, prepared: { image: out.nchw } } };
  }

  stats(): DecoderStats {
    return this.pool.stats();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Prepares the requests of a batch that arrive unprepared (a caller that skipped prepare()), all
 * at once in the pool; `refused[i]` is the answer for a request that cannot be used, else null.
 * Without a preparer (the model takes no images) the batch passes unchanged.
 */
export async function prepareBatch(p: ImagePreparer | null, batch: readonly InferRequest[]): Promise<{ batch: InferRequest[]; refused: (InferResult | null)[] }> {
  if (p === null) return { batch: [...batch], refused: batch.map(() => null) };
  const results = await Promise.all(batch.map((r) => p.prepare(r)));
  return {
    batch: results.map((x, i) => (x.ok ? x.request : { ...(batch[i] as InferRequest), prepared: { image: null } })),
    refused: results.map((x): InferResult | null => (x.ok ? null : { ok: false, code: x.code, message: x.message })),
  };
}
