/**
 * The in-thread executor: the decoder runs in the caller's thread. For tools, tests and benchmarks
 * (it measures the runtime without the worker hop); never for the daemon, whose event loop must
 * not block on inference. Requests run one at a time in order of arrival.
 */
import type { ActionDecoder, DecodeHandle, DecodeOptions } from './action-decoder.js';
import type { ChunkRequest, DecodeOutcome } from './decode-request.js';
import { loadDecoder, type DecoderLoadOptions, type LoadedDecoder, type LoadedModelInfo } from './decoder-loader.js';
import { CANCELLED, CONTROL_WORDS, SUPERSEDED, raiseControl, runRequest } from './request-runner.js';

export class InThreadDecoder implements ActionDecoder {
  private readonly control = new Int32Array(CONTROL_WORDS);
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly loaded: LoadedDecoder) {}

  static async load(bytes: Uint8Array, options: DecoderLoadOptions = {}): Promise<InThreadDecoder> {
    return new InThreadDecoder(await loadDecoder(bytes, options));
  }

  get info(): LoadedModelInfo {
    return this.loaded.info;
  }

  decode(req: ChunkRequest, options: DecodeOptions = {}): DecodeHandle {
    const id = this.nextId++;
    if (options.supersede ?? true) raiseControl(this.control, SUPERSEDED, id);
    const outcome: Promise<DecodeOutcome> = this.closed
      ? Promise.resolve({ status: 'cancelled', id, reason: 'closed', evaluations: 0 })
      : this.chain.then(() => this.closed
        ? { status: 'cancelled' as const, id, reason: 'closed' as const, evaluations: 0 }
        : runRequest(this.loaded.core, this.control, id, req));
    this.chain = outcome;
    return { id, outcome };
  }

  cancel(id: number): void {
    raiseControl(this.control, CANCELLED, id + 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    raiseControl(this.control, CANCELLED, this.nextId);
    await this.chain;
    await this.loaded.session.release();
  }
}
