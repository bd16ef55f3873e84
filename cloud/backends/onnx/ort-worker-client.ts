/**
 * The main-thread side of ort-worker.mjs: loads a model in a worker thread and runs feeds there,
 * one request at a time in arrival order. A worker that dies fails every pending run and every
 * later one with a message that says so.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER_FILE = 'ort-worker.mjs';

/** ort-worker.mjs beside this module (sources), else under the repository root (dist/ holds no .mjs). */
export function ortWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, WORKER_FILE))) return join(here, WORKER_FILE);
  for (let dir = here; ; dir = resolve(dir, '..')) {
    const p = join(dir, 'cloud', 'backends', 'onnx', WORKER_FILE);
    if (existsSync(join(dir, 'package.json')) && existsSync(p)) return p;
    if (resolve(dir, '..') === dir) break;
  }
  throw new Error(`${WORKER_FILE} not found beside ${here} nor under a repository root above it`);
}

export interface Feed {
  name: string;
  dims: number[];
  data: Float32Array;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array }
  | { type: 'failed'; id: number; message: string };

export class OrtWorker {
  private readonly pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: string | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'failed') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'result') p?.resolve(m.data);
      else p?.reject(new Error(m.message));
    });
    const die = (why: string): void => {
      this.dead ??= why;
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
    };
    worker.on('error', (e) => die(`the ONNX worker failed: ${e.message}`));
    worker.on('exit', (code) => die(`the ONNX worker exited (code ${code})`));
  }

  static start(bytes: Uint8Array, o: { providers: string[]; intraOpThreads?: number; output: string }): Promise<OrtWorker> {
    const worker = new Worker(ortWorkerPath(), { workerData: { bytes, ...o } });
    return new Promise((resolvePromise, reject) => {
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready') { detach(); resolvePromise(new OrtWorker(worker)); }
        if (m.type === 'load-failed') { detach(); void worker.terminate(); reject(new Error(m.message)); }
      };
      const onError = (e: Error): void => { detach(); reject(e); };
      const onExit = (code: number): void => { detach(); reject(new Error(`the ONNX worker exited (code ${code}) while loading`)); };
      const detach = (): void => { worker.off('message', onMessage).off('error', onError).off('exit', onExit); };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  run(feeds: Feed[]): Promise<Float32Array> {
    if (this.dead !== null) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      this.worker.postMessage({ type: 'run', id, feeds }, feeds.map((f) => f.data.buffer as ArrayBuffer));
    });
  }

  async close(): Promise<void> {
    this.dead ??= 'the ONNX backend is closed';
    await this.worker.terminate();
  }
}
