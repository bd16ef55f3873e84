// The vlm-planner's JPEG encoder thread (frame-image.ts): jpeg-js encodes a 448x448 frame in tens
// to hundreds of milliseconds, which must not stall the brain's event loop (every robot's plans are
// served there). Plain JavaScript with no project imports, so it runs as is from the sources and
// from dist/. Protocol:
//   <- { id, nchw: Float32Array(3 * height * width) in [0, 1], width, height, quality }
//   -> { id, ok: true, jpeg: Uint8Array } | { id, ok: false, message }
import { parentPort } from 'node:worker_threads';
import jpeg from 'jpeg-js';

const port = parentPort;

port.on('message', (m) => {
  try {
    const plane = m.width * m.height;
    const rgba = Buffer.alloc(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = Math.round(Math.min(1, Math.max(0, m.nchw[c * plane + p])) * 255);
      rgba[p * 4 + 3] = 255;
    }
    const out = new Uint8Array(jpeg.encode({ data: rgba, width: m.width, height: m.height }, m.quality).data);
    port.postMessage({ id: m.id, ok: true, jpeg: out }, [out.buffer]);
  } catch (e) {
    port.postMessage({ id: m.id, ok: false, message: String(e && e.message ? e.message : e).split('\n')[0] });
  }
});
