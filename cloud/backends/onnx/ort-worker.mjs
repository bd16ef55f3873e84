// The ONNX backend's worker thread: onnxruntime-node's run occupies the thread that calls it, so
// the brain runs it here and its event loop keeps serving sessions meanwhile. Plain JavaScript
// with no project imports, so it runs as is from the sources and from dist/ (onnx-worker-url.ts
// finds it). Protocol (ort-worker-client.ts, which posts one run at a time):
//   workerData: { bytes: Uint8Array, providers: string[], intraOpThreads?: number, output: string }
//   -> { type: 'ready' } | { type: 'load-failed', message }
//   <- { type: 'run', id, deadline, feeds: [{ name, dims, data: Float32Array }] }
//   -> { type: 'result', id, data: Float32Array } | { type: 'failed', id, message }
//    | { type: 'expired', id }   (deadline, wall-clock ms, already passed: not run)
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const port = parentPort;
let session;
try {
  const options = { executionProviders: workerData.providers, logSeverityLevel: 3 };
  if (workerData.intraOpThreads !== undefined) options.intraOpNumThreads = workerData.intraOpThreads;
  session = await ort.InferenceSession.create(workerData.bytes, options);
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'load-failed', message: String(e && e.message ? e.message : e).split('\n')[0] });
}

port.on('message', async (m) => {
  if (m.type !== 'run' || session === undefined) return;
  if (performance.timeOrigin + performance.now() >= m.deadline) {
    port.postMessage({ type: 'expired', id: m.id });
    return;
  }
  try {
    const feeds = {};
    for (const f of m.feeds) feeds[f.name] = new ort.Tensor('float32', f.data, f.dims);
    const out = await session.run(feeds);
    const t = out[workerData.output];
    if (t === undefined || t.type !== 'float32') throw new Error(`the model returned no float32 "${workerData.output}"`);
    const data = Float32Array.from(t.data);
    port.postMessage({ type: 'result', id: m.id, data }, [data.buffer]);
  } catch (e) {
    port.postMessage({ type: 'failed', id: m.id, message: String(e && e.message ? e.message : e).split('\n')[0] });
  }
});
