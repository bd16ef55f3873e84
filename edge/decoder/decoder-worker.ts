/**
 * The decoder worker's entry: loads the model into this thread and runs decode requests one at a
 * time, the whole sampling loop here, so the main thread only sends latent/state/prefix and
 * receives actions. Each outcome's actions buffer is transferred, not copied. Started by
 * WorkerDecoder (worker-decoder.ts) with workerData { mark: WORKER_MARK }; importing it elsewhere
 * does nothing.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { setThreadNice } from '../thread-priority.js';
import type { ChunkRequest } from './decode-request.js';
import { toErrorData } from './decoder-error.js';
import { loadDecoder, type LoadedDecoder } from './decoder-loader.js';
import { runRequest } from './request-runner.js';
import { WORKER_MARK, type FromWorker, type ToWorker } from './worker-protocol.js';

/** Nice value of the decoder thread: lower priority than control, always permitted. */
export const DECODER_THREAD_NICE = 5;

/** Serves the protocol on `port` until 'close'. */
export function serveDecoder(port: MessagePort): void {
  // Below the control tick thread and the serial link's thread; set before the session is made so
  // onnxruntime's own pool threads inherit it (see thread-priority.ts).
  setThreadNice(DECODER_THREAD_NICE);
  let loaded: LoadedDecoder | null = null;
  let control: Int32Array = new Int32Array(2);
  const queue: { id: number; request: ChunkRequest }[] = [];
  let running = false;
  const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

  const pump = async (): Promise<void> => {
    if (running || loaded === null) return;
    running = true;
    while (queue.length > 0) {
      const { id, request } = queue.shift() as { id: number; request: ChunkRequest };
      const outcome = await runRequest(loaded.core, control, id, request);
      send({ type: 'outcome', outcome }, outcome.status === 'done' ? [outcome.actions.buffer as ArrayBuffer] : []);
    }
    running = false;
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'load':
        control = new Int32Array(m.control);
        void (async () => {
          try {
            const bytes = 'path' in m.source ? new Uint8Array(await readFile(m.source.path)) : m.source.bytes;
            loaded = await loadDecoder(bytes, m.options);
            send({ type: 'loaded', info: loaded.info });
            void pump();
          } catch (e) {
            send({ type: 'load-failed', error: toErrorData(e, 'session-failed') });
          }
        })();
        break;
      case 'decode':
        queue.push({ id: m.id, request: m.request });
        void pump();
        break;
      case 'close':
        void (async () => {
          await loaded?.session.release();
          send({ type: 'closed' });
          port.close();
        })();
        break;
    }
  });
}

if (parentPort !== null && (workerData as { mark?: unknown } | null)?.mark === WORKER_MARK) serveDecoder(parentPort);
