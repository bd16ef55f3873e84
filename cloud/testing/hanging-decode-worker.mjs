// The image decoder worker for tests: decodes like decode-worker.mjs, except that a frame carrying
// the comment "spinal-test:hang" (test-jpegs.ts HANG_MARK) blocks this thread for good, as a
// decode that never ends would; only the pool's deadline (terminating the thread) ends it.
import { parentPort } from 'node:worker_threads';

const HANG = Buffer.from('spinal-test:hang', 'latin1');
parentPort.on('message', (m) => {
  if (Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).includes(HANG)) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
});
await import('../backends/images/decode-worker.mjs');
