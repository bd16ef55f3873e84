/**
 * The daemon's executor: the decoder in a worker thread (onnxruntime's run blocks its thread), so
 * the main thread's control loop and timers keep running during a decode. Cancellation goes
 * through a SharedArrayBuffer control pair that the worker's sampler polls between steps
 * (request-runner.ts), so it works while the worker is busy. A crashed worker fails every pending
 * request ('worker-failed') and the decoder refuses new ones.
 */
import { Worker } from 'node:worker_threads';
import type { ActionDecoder, DecodeHandle, DecodeOptions } from './action-decoder.js';
import type { ChunkRequest, DecodeOutcome } from './decode-request.js';
import { DecoderError } from './decoder-error.js';
import type { DecoderLoadOptions, LoadedModelInfo } from './decoder-loader.js';
import { CANCELLED, CONTROL_WORDS, SUPERSEDED, raiseControl } from './request-runner.js';
import { decoderWorkerUrl } from './worker-entry.js';
import { WORKER_MARK, type FromWorker, type ModelSource, type ToWorker } from './worker-protocol.js';

export interface WorkerDecoderOptions extends DecoderLoadOptions {
  /** Override the worker's code (default: decoderWorkerUrl()). */
  workerUrl?: URL;
}

export class WorkerDecoder implements ActionDecoder {
  private readonly control: Int32Array;
  private readonly pending = new Map<number, (o: DecodeOutcome) => void>();
  private nextId = 1;
  private dead: DecoderError | null = null;
  private closing: Promise<void> | null = null;

  private constructor(private readonly worker: Worker, sab: SharedArrayBuffer, readonly info: LoadedModelInfo) {
    this.control = new Int32Array(sab);
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'outcome') return;
      const resolve = this.pending.get(m.outcome.id);
      this.pending.delete(m.outcome.id);
      resolve?.(m.outcome);
    });
    const fail = (why: string): void => {
      if (this.dead !== null) return;
      this.dead = new DecoderError(this.closing !== null ? 'closed' : 'worker-failed', why);
      for (const [id, resolve] of this.pending) {
        resolve(this.closing !== null
          ? { status: 'cancelled', id, reason: 'closed', evaluations: 0 }
          : { status: 'failed', id, error: this.dead.toData() });
      }
      this.pending.clear();
    };
    worker.on('error', (e) => fail(`decoder worker failed: ${e.message}`));
    worker.on('exit', (code) => fail(`decoder worker exited with code ${code}`));
  }

  /** Starts the worker and loads the model there; rejects with the load's DecoderError. */
  static async load(source: ModelSource, options: WorkerDecoderOptions = {}): Promise<WorkerDecoder> {
    const { workerUrl, ...loadOptions } = options;
    const worker = new Worker(workerUrl ?? decoderWorkerUrl(), { workerData: { mark: WORKER_MARK } });
    const sab = new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
    let onMessage: ((m: FromWorker) => void) | undefined;
    let onError: ((e: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    const detach = (): void => {
      if (onMessage !== undefined) worker.off('message', onMessage);
      if (onError !== undefined) worker.off('error', onError);
      if (onExit !== undefined) worker.off('exit', onExit);
    };
    try {
      const info = await new Promise<LoadedModelInfo>((resolve, reject) => {
        onMessage = (m: FromWorker): void => {
          if (m.type === 'loaded') resolve(m.info);
          else if (m.type === 'load-failed') reject(DecoderError.fromData(m.error));
        };
        onError = (e: Error): void => reject(new DecoderError('worker-failed', `decoder worker failed to start: ${e.message}`));
        onExit = (code: number): void => reject(new DecoderError('worker-failed', `decoder worker exited with code ${code} while loading`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        const msg: ToWorker = { type: 'load', source, options: loadOptions, control: sab };
        worker.postMessage(msg);
      });
      detach();
      return new WorkerDecoder(worker, sab, info);
    } catch (e) {
      detach();
      await worker.terminate();
      throw e;
    }
  }

  decode(req: ChunkRequest, options: DecodeOptions = {}): DecodeHandle {
    const id = this.nextId++;
    if (this.dead !== null || this.closing !== null) {
      const outcome: DecodeOutcome = this.closing !== null
        ? { status: 'cancelled', id, reason: 'closed', evaluations: 0 }
        : { status: 'failed', id, error: (this.dead as DecoderError).toData() };
      return { id, outcome: Promise.resolve(outcome) };
    }
    if (options.supersede ?? true) raiseControl(this.control, SUPERSEDED, id);
    const outcome = new Promise<DecodeOutcome>((resolve) => this.pending.set(id, resolve));
    const msg: ToWorker = { type: 'decode', id, request: req };
    this.worker.postMessage(msg);
    return { id, outcome };
  }

  cancel(id: number): void {
    raiseControl(this.control, CANCELLED, id + 1);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    raiseControl(this.control, CANCELLED, this.nextId);
    this.closing = (async () => {
      if (this.dead === null) {
        const closed = new Promise<void>((resolve) => {
          this.worker.on('message', (m: FromWorker) => { if (m.type === 'closed') resolve(); });
          this.worker.once('exit', () => resolve());
        });
        const msg: ToWorker = { type: 'close' };
        this.worker.postMessage(msg);
        await closed;
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
