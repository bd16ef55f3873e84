// The resize thread of ResizedCamera (resized-camera.ts): decodes a camera's JPEG, scales it to
// the configured size keeping its aspect ratio (area average, black bars: as openpi's
// resize_with_pad does) and encodes it again at the configured quality. jpeg-js is pure
// JavaScript and takes tens of milliseconds on a 720p frame, so it never runs on the edge's main
// thread. Plain JavaScript with no project imports, so it runs as is from the sources and dist/.
//   <- { data: Uint8Array, width, height, quality }
//   -> { ok: true, data: Uint8Array, width, height } | { ok: false, message }
import { parentPort } from 'node:worker_threads';
import jpeg from 'jpeg-js';

const port = parentPort;

function resizePad(img, W, H) {
  const scale = Math.min(W / img.width, H / img.height);
  const w = Math.max(1, Math.round(img.width * scale)), h = Math.max(1, Math.round(img.height * scale));
  const x0 = Math.floor((W - w) / 2), y0 = Math.floor((H - h) / 2);
  const out = new Uint8Array(W * H * 4);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  for (let y = 0; y < h; y++) {
    const sy0 = Math.floor((y * img.height) / h), sy1 = Math.max(sy0 + 1, Math.floor(((y + 1) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const sx0 = Math.floor((x * img.width) / w), sx1 = Math.max(sx0 + 1, Math.floor(((x + 1) * img.width) / w));
      let r = 0, g = 0, b = 0, k = 0;
      for (let sy = sy0; sy < sy1; sy++) {
        for (let sx = sx0; sx < sx1; sx++) {
          const p = (sy * img.width + sx) * 4;
          r += img.data[p]; g += img.data[p + 1]; b += img.data[p + 2]; k++;
        }
      }
      const q = ((y0 + y) * W + x0 + x) * 4;
      out[q] = r / k; out[q + 1] = g / k; out[q + 2] = b / k;
    }
  }
  return out;
}

port.on('message', (m) => {
  try {
    const img = jpeg.decode(m.data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 50, maxMemoryUsageInMB: 512 });
    const rgba = resizePad(img, m.width, m.height);
    const enc = jpeg.encode({ data: rgba, width: m.width, height: m.height }, m.quality);
    const data = new Uint8Array(enc.data);
    port.postMessage({ ok: true, data, width: m.width, height: m.height }, [data.buffer]);
  } catch (e) {
    port.postMessage({ ok: false, message: String(e && e.message ? e.message : e).split('\n')[0] });
  }
});
