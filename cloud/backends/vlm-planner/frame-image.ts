/**
 * The camera frame as the model sees it: a JPEG of the configured size in a data URL (the form
 * vLLM, Ollama and llama-server all take in an image_url content part). A JPEG that already has
 * that size goes as is; any other frame is decoded and resized in the brain's image decoder pool
 * (off the event loop, within its limits) and encoded again here. Encoding runs on the event loop
 * but only once per model call (seconds apart), never per observation.
 */
import jpeg from 'jpeg-js';
import type { CameraFrame } from '../../../proto/brain/index.js';
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
    const plane = W * H;
    const rgba = Buffer.alloc(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = Math.round(Math.min(1, Math.max(0, out.nchw[c * plane + p] as number)) * 255);
      rgba[p * 4 + 3] = 255;
    }
    const enc = jpeg.encode({ data: rgba, width: W, height: H }, this.quality);
    return { ok: true, dataUrl: `data:image/jpeg;base64,${Buffer.from(enc.data).toString('base64')}`, passedThrough: false };
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }
}
