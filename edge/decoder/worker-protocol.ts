/** Messages between WorkerDecoder (main thread) and decoder-worker (the worker). */
import type { DecoderErrorData } from './decoder-error.js';
import type { ChunkRequest, DecodeOutcome } from './decode-request.js';
import type { DecoderLoadOptions, LoadedModelInfo } from './decoder-loader.js';

/** Where the worker reads the model: a file path (preferred for big models) or the bytes. */
export type ModelSource = { path: string } | { bytes: Uint8Array };

export type ToWorker =
  /** `control` is a SharedArrayBuffer of CONTROL_WORDS Int32 (request-runner.ts). */
  | { type: 'load'; source: ModelSource; options: DecoderLoadOptions; control: SharedArrayBuffer }
  | { type: 'decode'; id: number; request: ChunkRequest }
  | { type: 'close' };

export type FromWorker =
  | { type: 'loaded'; info: LoadedModelInfo }
  | { type: 'load-failed'; error: DecoderErrorData }
  | { type: 'outcome'; outcome: DecodeOutcome }
  | { type: 'closed' };

/** workerData.mark of a worker started by WorkerDecoder (a test runner's own threads are left alone). */
export const WORKER_MARK = 'spinal.decoder-worker';
