/**
 * The request API of the decoder runtime, one interface for both executors (a worker thread for
 * the daemon, the caller's thread for tools and benchmarks):
 * - `decode(req)` returns the request's id at once and its outcome later. By default a new request
 *   supersedes every older one (newest plan wins): a running one stops after its current denoising
 *   step and resolves `cancelled` / `superseded`; queued ones resolve without running.
 * - `cancel(id)` cancels that request and every older one.
 * - Outcomes are data: done (actions in robot units), cancelled, or failed (a DecoderError's data:
 *   'non-finite' when the model produced NaN/Inf, 'bad-request' when the request does not fit).
 */
import type { ChunkRequest, DecodeOutcome } from './decode-request.js';
import type { LoadedModelInfo } from './decoder-loader.js';

export interface DecodeHandle {
  id: number;
  outcome: Promise<DecodeOutcome>;
}

export interface DecodeOptions {
  /** Default true: cancel every older request (newest plan wins). */
  supersede?: boolean;
}

export interface ActionDecoder {
  readonly info: LoadedModelInfo;
  decode(req: ChunkRequest, options?: DecodeOptions): DecodeHandle;
  cancel(id: number): void;
  /** Resolves pending requests as cancelled ('closed') and releases the session. */
  close(): Promise<void>;
}
