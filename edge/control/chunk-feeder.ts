/**
 * The decoder side of chunk scheduling, on the thread that owns the decoder: turns a
 * NextChunkRequest into a ChunkRequest (adding the present plan's latent), runs it, checks the
 * result (finite, right size: bad numbers never reach the scheduler) and reports the outcome as
 * data. A newer request supersedes an older one (the decoder's default).
 */
import type { ActionDecoder, ChunkRequest, SamplerName } from '../decoder/index.js';
import type { NextChunkRequest } from './chunk-request.js';

export type FeedResult =
  | { status: 'chunk'; actions: Float32Array; originUs: number; decodeMs: number }
  | { status: 'no-plan' }
  | { status: 'cancelled' }
  | { status: 'failed'; badNumbers: boolean; detail: string };

export interface ChunkFeederOptions {
  /** Denoising steps (default: the model's). */
  steps?: number;
  /** Sampler (default: ddim for epsilon models, euler for velocity models); checked against the model at load. */
  sampler?: SamplerName;
  /** prefix soft weight for the uncommitted rows (default 0.5). */
  prefixSoftWeight?: number;
}

export class ChunkFeeder {
  /** Requests handed to the decoder. */
  requests = 0;

  /** `latent`: the present plan's latent, or null when there is no valid plan. */
  constructor(private readonly decoder: ActionDecoder, private readonly latent: () => Float32Array | null, private readonly jointCount: number, private readonly o: ChunkFeederOptions = {}) {}

  async run(req: NextChunkRequest): Promise<FeedResult> {
    const latent = this.latent();
    if (latent === null) return { status: 'no-plan' };
    const info = this.decoder.info.spec;
    const cr: ChunkRequest = { latent, state: req.state };
    if (this.o.steps !== undefined) cr.steps = this.o.steps;
    if (this.o.sampler !== undefined) cr.sampler = this.o.sampler;
    // Denoisers inpaint training-free in the runtime; fused graphs only when built for it.
    if (req.prefix !== null && (info.kind === 'denoiser' || info.supportsPrefix)) {
      cr.prefix = { actions: req.prefix.actions, committed: Math.min(req.prefix.committed, req.prefix.actions.length / this.jointCount), softWeight: this.o.prefixSoftWeight ?? 0.5 };
    }
    this.requests++;
    const out = await this.decoder.decode(cr).outcome;
    if (out.status === 'cancelled') return { status: 'cancelled' };
    if (out.status === 'failed') return { status: 'failed', badNumbers: out.error.code === 'non-finite', detail: out.error.message };
    const n = info.horizon * this.jointCount;
    if (out.actions.length < n || info.actionDim !== this.jointCount) {
      return { status: 'failed', badNumbers: true, detail: `chunk of ${out.actions.length} values (action dim ${info.actionDim}), expected ${info.horizon}x${this.jointCount}` };
    }
    const actions = out.actions.subarray(0, n);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(actions[i])) return { status: 'failed', badNumbers: true, detail: `chunk value [${i}]=${String(actions[i])} is not finite` };
    }
    return { status: 'chunk', actions, originUs: req.originUs, decodeMs: out.timing.decodeMs };
  }
}
