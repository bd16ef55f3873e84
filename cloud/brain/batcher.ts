/**
 * Gathers the observations of many sessions into one backend call. A batch leaves when it holds
 * `maxBatch` requests, or `maxWaitMs` after its first request arrived, whichever comes first; at
 * most `maxInFlight` batches run at once (further requests wait, and leave together, when one
 * returns). Each call has a deadline: when it passes, every request of the batch is answered
 * BACKEND_TIMEOUT and the late results are dropped.
 *
 * Invariants: every submitted request is answered exactly once; a batch never holds two requests
 * of one session (the server submits at most one per session at a time); the answer to request i
 * is the backend's result i, or an error that names why there is none.
 */
import type { BrainBackend, InferRequest, InferResult } from '../backends/backend.js';

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Deadline of one backend call. */
  timeoutMs: number;
  maxInFlight: number;
}

export interface BatchEvents {
  onBatch?(size: number): void;
  onBackendError?(kind: 'failed' | 'timeout' | 'result-count', message: string): void;
}

interface Pending {
  request: InferRequest;
  resolve: (r: InferResult) => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly idle = new Set<() => void>();
  private readonly controllers = new Set<AbortController>();

  constructor(
    private readonly backend: BrainBackend,
    private readonly opts: BatcherOptions,
    private readonly events: BatchEvents = {},
  ) {
    if (!(opts.maxBatch >= 1) || !(opts.maxInFlight >= 1)) throw new RangeError('maxBatch and maxInFlight must be >= 1');
  }

  submit(request: InferRequest): Promise<InferResult> {
    return new Promise((resolve) => {
      this.queue.push({ request, resolve });
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => { this.timer = null; this.flush(); }, this.opts.maxWaitMs);
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when nothing waits and nothing runs (after flushing what waits now). */
  drain(): Promise<void> {
    this.flush();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Aborts the calls in flight (their requests are answered BACKEND_TIMEOUT "aborted"). */
  abortAll(): void {
    for (const c of this.controllers) c.abort();
  }

  private flush(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      void this.run(batch);
    }
    if (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) this.timer ??= setTimeout(() => { this.timer = null; this.flush(); }, this.opts.maxWaitMs);
  }

  private async run(batch: Pending[]): Promise<void> {
    this.inFlight++;
    this.events.onBatch?.(batch.length);
    const controller = new AbortController();
    this.controllers.add(controller);
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'deadline' | 'aborted'>((resolve) => {
      deadline = setTimeout(() => { resolve('deadline'); controller.abort(); }, this.opts.timeoutMs);
      controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    let results: InferResult[];
    try {
      const call = this.backend.infer(batch.map((p) => p.request), { signal: controller.signal, timeoutMs: this.opts.timeoutMs });
      const outcome = await Promise.race([call, timedOut]);
      if (outcome === 'deadline' || outcome === 'aborted') {
        void call.catch(() => undefined); // a late failure is not an unhandled rejection
        const message = outcome === 'aborted'
          ? 'backend call aborted: the brain is shutting down'
          : `backend did not answer within ${this.opts.timeoutMs} ms`;
        this.events.onBackendError?.('timeout', message);
        results = batch.map(() => ({ ok: false, code: 'BACKEND_TIMEOUT', message }));
      } else if (outcome.length !== batch.length) {
        const message = `backend returned ${outcome.length} results for a batch of ${batch.length}`;
        this.events.onBackendError?.('result-count', message);
        results = batch.map(() => ({ ok: false, code: 'BACKEND_FAILED', message }));
      } else {
        results = outcome;
      }
    } catch (e) {
      const message = `backend failed: ${(e as Error).message}`;
      this.events.onBackendError?.('failed', message);
      results = batch.map(() => ({ ok: false, code: 'BACKEND_FAILED', message }));
    } finally {
      clearTimeout(deadline);
      controller.abort();
      this.controllers.delete(controller);
      this.inFlight--;
    }
    batch.forEach((p, i) => p.resolve(results[i] as InferResult));
    this.flush();
    if (this.queue.length === 0 && this.inFlight === 0) {
      for (const done of this.idle) done();
      this.idle.clear();
    }
  }
}

