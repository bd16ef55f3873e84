/**
 * A camera frame as model input: JPEG decoded (jpeg-js, pure JS), resized nearest-neighbour to
 * the model's H x W, RGB, scaled to [0, 1], normalised per channel ((x - mean) / std), written
 * channel-major (NCHW) into a batch buffer at a given item. PNG is not decoded (no decoder in the
 * project's dependencies): such a frame is refused with a message that says so.
 */
import jpeg from 'jpeg-js';
import type { CameraFrame } from '../../proto/brain/index.js';

export interface ImageSpec {
  height: number;
  width: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Largest decoded image accepted (pixels): far above any 1 MiB JPEG's honest size. */
const MAX_PIXELS = 40_000_000;

/** Writes item `item` of an NCHW batch buffer; returns null, or why the frame cannot be used. */
export function writeFrameNchw(frame: CameraFrame, spec: ImageSpec, out: Float32Array, item: number): string | null {
  if (frame.encoding !== 'jpeg') return `camera "${frame.cameraId}": encoding "${frame.encoding}" is not decoded by this backend (send jpeg)`;
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(frame.data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 256 });
  } catch (e) {
    return `camera "${frame.cameraId}": not a decodable JPEG (${(e as Error).message})`;
  }
  const { height: H, width: W } = spec;
  const plane = H * W;
  const base = item * 3 * plane;
  for (let y = 0; y < H; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / W));
      const p = (sy * img.width + sx) * 4;
      for (let c = 0; c < 3; c++) {
        out[base + c * plane + y * W + x] = ((img.data[p + c] as number) / 255 - (spec.mean[c] as number)) / (spec.std[c] as number);
      }
    }
  }
  return null;
}
