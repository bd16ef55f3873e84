/**
 * JPEG frames for tests and benchmarks: honest ones (jpeg-js encoder) and hostile ones made by
 * editing honest ones: a frame header that declares a huge size over a tiny payload (a "bomb"),
 * a cut-off file, and a comment marker that the test decoder worker (hanging-decode-worker.mjs)
 * reads as "never finish".
 */
import jpeg from 'jpeg-js';
import type { CameraFrame } from '../../proto/brain/index.js';

/** Text of the COM segment that hanging-decode-worker.mjs never finishes decoding. */
export const HANG_MARK = 'spinal-test:hang';

export function frameOf(data: Uint8Array, cameraId = 'wrist'): CameraFrame {
  return { cameraId, encoding: 'jpeg', data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width: 0, height: 0, captureTimeUs: 0 };
}

/** A uniform grey JPEG. */
export function grayJpeg(level: number, w = 16, h = 12, quality = 95): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: Buffer.alloc(w * h * 4, level), width: w, height: h }, quality).data);
}

/** A JPEG of pseudo-random pixels (the costliest content to decode per pixel). */
export function noiseJpeg(w: number, h: number, quality = 75, seed = 1): Uint8Array {
  const data = Buffer.alloc(w * h * 4);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return new Uint8Array(jpeg.encode({ data, width: w, height: h }, quality).data);
}

/** Offset of the SOF0 segment's marker in a baseline JPEG (jpeg-js writes SOF0). */
function sofOffset(b: Uint8Array): number {
  for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xc0) return i;
  throw new Error('no SOF0 marker');
}

/** A copy of `b` whose frame header declares `width` x `height` (the payload stays small). */
export function withDeclaredSize(b: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(b);
  const i = sofOffset(out) + 5; // FF C0, length (2), precision (1), then height, width
  out[i] = height >> 8; out[i + 1] = height & 0xff;
  out[i + 2] = width >> 8; out[i + 3] = width & 0xff;
  return out;
}

/** A copy of `b` with a COM (FF FE) segment holding `text` right after SOI. */
export function withComment(b: Uint8Array, text: string): Uint8Array {
  const t = Buffer.from(text, 'latin1');
  const seg = Buffer.concat([Buffer.from([0xff, 0xfe, (t.length + 2) >> 8, (t.length + 2) & 0xff]), t]);
  return new Uint8Array(Buffer.concat([b.subarray(0, 2), seg, b.subarray(2)]));
}
