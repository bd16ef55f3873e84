/**
 * The decoder as the control loop sees it in simulated time: the real decoder runs at once (real
 * time, simulated time frozen: the rig waits for `inflight` before it moves the clock on), and its
 * outcome is delivered `latencyMs` of simulated time after the request. So the chunks are the
 * decoder's own, and the latency is the injected one, the same on every machine.
 */
import type { ManualClock } from '../../edge/clock.js';
import type { ActionDecoder, ChunkRequest, DecodeHandle, DecodeOptions } from '../../edge/decoder/index.js';

export class DelayedDecoder implements ActionDecoder {
  readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly inner: ActionDecoder, private readonly clock: ManualClock, private readonly latencyMs: number) {}

  get info(): ActionDecoder['info'] { return this.inner.info; }

  decode(req: ChunkRequest, options?: DecodeOptions): DecodeHandle {
    const h = this.inner.decode(req, options);
    const due = this.clock.nowUs() + this.latencyMs * 1000;
    const decoded = h.outcome;
    this.inflight.add(decoded);
    void decoded.finally(() => this.inflight.delete(decoded));
    const outcome = decoded.then((o) => new Promise<typeof o>((r) => this.clock.setTimeout(() => r(o), (due - this.clock.nowUs()) / 1000)));
    return { id: h.id, outcome };
  }

  cancel(id: number): void { this.inner.cancel(id); }
  close(): Promise<void> { return this.inner.close(); }
}
