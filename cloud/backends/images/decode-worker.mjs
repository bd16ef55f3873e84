// One image decoder thread of ImageDecoderPool (image-decoder-pool.ts): JPEG decoding (jpeg-js,
// pure JavaScript) takes tens to hundreds of milliseconds per frame, so it never runs on the
// brain's event loop. The pool kills this thread when a decode passes its deadline, so nothing
// here needs to watch the time. Plain JavaScript with no project imports, so it runs as is from
// the sources and from dist/. Protocol:
//   -> { type: 'ready' } once loaded
//   <- { id, data: Uint8Array, spec: { height, width, mean: [3], std: [3] }, maxPixels, maxMemoryMB }
//   -> { id, ok: true, nchw: Float32Array(3 * height * width) } | { id, ok: false, message }
// The frame is decoded to RGBA, resized nearest-neighbour to spec's H x W (sample
// (x + 0.5) * width / W), scaled to [0, 1] and normalised per channel, channel-major (NCHW).
import { parentPort } from 'node:worker_threads';
import jpeg from 'jpeg-js';

const port = parentPort;

function toNchw(img, spec) {
  const { height: H, width: W, mean, std } = spec;
  const plane = H * W;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / W));
      const p = (sy * img.width + sx) * 4;
      for (let c = 0; c < 3; c++) out[c * plane + y * W + x] = (img.data[p + c] / 255 - mean[c]) / std[c];
    }
  }
  return out;
}

port.on('message', (m) => {
  try {
    const img = jpeg.decode(m.data, {
      useTArray: true, formatAsRGBA: true, tolerantDecoding: false,
      maxResolutionInMP: m.maxPixels / 1e6, maxMemoryUsageInMB: m.maxMemoryMB,
    });
    const nchw = toNchw(img, m.spec);
    port.postMessage({ id: m.id, ok: true, nchw }, [nchw.buffer]);
  } catch (e) {
    port.postMessage({ id: m.id, ok: false, message: String(e && e.message ? e.message : e).split('\n')[0] });
  }
});
port.postMessage({ type: 'ready' });
