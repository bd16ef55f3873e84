/**
 * The main-thread side of ort-worker.mjs: loads a model in a worker thread and runs feeds there,
 * one at a time in arrival order. A worker that dies fails every pending run and every later one
 * with a message that says so.
 *
 * Bounded work: every run carries a deadline. The worker holds at most one run (the next is posted
 * when the previous answers), so waiting runs stay here, where
 *   - at most `maxQueue` wait; more are refused at once ("queue full"), counted;
 *   - a run whose deadline has passed, or whose caller aborted, is dropped before it starts, counted
 *     (the worker checks the deadline again when the run reaches it);
 *   - an answer that arrives after its deadline, or after its caller gave up, is dropped, counted.
 * So a model slower than the offered load never builds a backlog: memory holds at most
 * `maxQueue` + 1 runs' feeds, and the model never starts work nobody waits for.
 */
import { Worker } from 'node:worker_threads';
import { workerScriptPath } from '../worker-script.js';

/** ort-worker.mjs beside this module (sources), else under the repository root (dist/ holds no .mjs). */
export function ortWorkerPath(): string {
  return workerScriptPath(import.meta.url, 'cloud/backends/onnx', 'ort-worker.mjs');
}

export interface Feed {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface RunOptions {
  /** When the answer stops being useful, on the worker's clock (`now`, ms). */
  deadlineMs: number;
  /** Aborting drops the run if it has not started, and its answer if it has. */
  signal?: AbortSignal;
}

export interface OrtWorkerStats {
  queued: number;
  running: number;
  completed: number;
  /** Dropped before starting: deadline passed or caller aborted while waiting. */
  expiredBeforeRun: number;
  /** Refused because `maxQueue` runs were already waiting. */
  queueFull: number;
  /** Answers that came after their deadline or after their caller gave up, dropped. */
  lateAnswers: number;
}

export class OrtDeadlineError extends Error {
  override readonly name = 'OrtDeadlineError';
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array }
  | { type: 'expired'; id: number }
  | { type: 'failed'; id: number; message: string };

interface Run {
  id: number;
  feeds: Feed[];
  deadlineMs: number;
  queuedAtMs: number;
  resolve: (d: Float32Array) => void;
  reject: (e: Error) => void;
  /** The caller gave up (aborted) while the run was on the worker: its answer is dropped. */
  abandoned: boolean;
  detach: () => void;
}

export interface OrtWorkerOptions {
  providers: string[];
  intraOpThreads?: number;
  output: string;
  /** Most runs waiting for the worker (default 8). */
  maxQueue?: number;
  /** Milliseconds on a monotonic clock (tests inject one). */
  now?: () => number;
}

export const DEFAULT_ORT_MAX_QUEUE = 8;

export class OrtWorker {
  private readonly queue: Run[] = [];
  private running: Run | null = null;
  private nextId = 1;
  private dead: string | null = null;
  private readonly counts = { completed: 0, expiredBeforeRun: 0, queueFull: 0, lateAnswers: 0 };
  private readonly now: () => number;
  private readonly maxQueue: number;

  private constructor(private readonly worker: Worker, o: OrtWorkerOptions) {
    this.now = o.now ?? (() => performance.now());
    this.maxQueue = o.maxQueue ?? DEFAULT_ORT_MAX_QUEUE;
    worker.on('message', (m: FromWorker) => this.onAnswer(m));
    const die = (why: string): void => {
      this.dead ??= why;
      const all = [...(this.running !== null ? [this.running] : []), ...this.queue.splice(0)];
      this.running = null;
      for (const r of all) { r.detach(); r.reject(new Error(why)); }
    };
    worker.on('error', (e) => die(`the ONNX worker failed: ${e.message}`));
    worker.on('exit', (code) => die(`the ONNX worker exited (code ${code})`));
  }

  static start(bytes: Uint8Array, o: OrtWorkerOptions): Promise<OrtWorker> {
    const { providers, intraOpThreads, output } = o;
    const worker = new Worker(ortWorkerPath(), { workerData: { bytes, providers, output, ...(intraOpThreads !== undefined ? { intraOpThreads } : {}) } });
    return new Promise((resolvePromise, reject) => {
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready') { detach(); resolvePromise(new OrtWorker(worker, o)); }
        if (m.type === 'load-failed') { detach(); void worker.terminate(); reject(new Error(m.message)); }
      };
      const onError = (e: Error): void => { detach(); reject(e); };
      const onExit = (code: number): void => { detach(); reject(new Error(`the ONNX worker exited (code ${code}) while loading`)); };
      const detach = (): void => { worker.off('message', onMessage).off('error', onError).off('exit', onExit); };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  stats(): OrtWorkerStats {
    return { ...this.counts, queued: this.queue.length, running: this.running !== null ? 1 : 0 };
  }

  run(feeds: Feed[], o: RunOptions): Promise<Float32Array> {
    if (this.dead !== null) return Promise.reject(new Error(this.dead));
    if (o.signal?.aborted === true) {
      this.counts.expiredBeforeRun++;
      return Promise.reject(new OrtDeadlineError('the run was aborted before it was queued'));
    }
    if (this.queue.length >= this.maxQueue) {
      this.counts.queueFull++;
      return Promise.reject(new OrtDeadlineError(`the ONNX model is busy: ${this.queue.length} runs already wait (the limit); run refused`));
    }
    return new Promise((resolve, reject) => {
      const run: Run = {
        id: this.nextId++, feeds, deadlineMs: o.deadlineMs, queuedAtMs: this.now(), resolve, reject, abandoned: false, detach: () => undefined,
      };
      if (o.signal !== undefined) {
        const signal = o.signal;
        const onAbort = (): void => this.abort(run);
        signal.addEventListener('abort', onAbort, { once: true });
        run.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(run);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.dead ??= 'the ONNX backend is closed';
    await this.worker.terminate();
  }

  private abort(run: Run): void {
    const i = this.queue.indexOf(run);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.counts.expiredBeforeRun++;
      run.reject(new OrtDeadlineError('the run was aborted before it started'));
    } else if (this.running === run && !run.abandoned) {
      run.abandoned = true; // its answer will be dropped (and counted) when it comes
      run.reject(new OrtDeadlineError('the run was aborted while running; its answer will be dropped'));
    }
  }

  /** Posts the next run whose deadline has not passed, when the worker is free. */
  private dispatch(): void {
    while (this.running === null && this.queue.length > 0 && this.dead === null) {
      const run = this.queue.shift() as Run;
      const left = run.deadlineMs - this.now();
      if (left <= 0) {
        run.detach();
        this.counts.expiredBeforeRun++;
        run.reject(new OrtDeadlineError(`waited ${Math.round(this.now() - run.queuedAtMs)} ms for the model, past its deadline; not started`));
        continue;
      }
      this.running = run;
      // The worker checks again on its own clock: wall time, comparable across threads.
      const deadlineWall = performance.timeOrigin + performance.now() + left;
      this.worker.postMessage({ type: 'run', id: run.id, deadline: deadlineWall, feeds: run.feeds }, run.feeds.map((f) => f.data.buffer as ArrayBuffer));
    }
  }

  private onAnswer(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'failed' && m.type !== 'expired') return;
    const run = this.running;
    if (run === null || run.id !== m.id) return;
    this.running = null;
    run.detach();
    if (m.type === 'expired') {
      this.counts.expiredBeforeRun++;
      if (!run.abandoned) run.reject(new OrtDeadlineError('reached the model past its deadline; not started'));
    } else if (run.abandoned || this.now() > run.deadlineMs) {
      this.counts.lateAnswers++;
      if (!run.abandoned) run.reject(new OrtDeadlineError(`the model answered ${Math.round(this.now() - run.deadlineMs)} ms after the deadline; answer dropped`));
    } else if (m.type === 'result') {
      this.counts.completed++;
      run.resolve(m.data);
    } else {
      run.reject(new Error(m.message));
    }
    this.dispatch();
  }
}
