/**
 * A backend for tests: records every batch, answers each request with a latent that encodes who
 * asked (latent[0] = the observation's seq, latent[1] = state[0], the rest its index in the
 * batch), after an optional delay, or as a scripted misbehaviour.
 */
import type { Hello } from '../../proto/brain/index.js';
import type { BrainBackend, InferContext, InferRequest, InferResult } from '../backends/backend.js';

export type Misbehaviour = 'none' | 'wrong-dims' | 'nan' | 'throw' | 'hang' | 'short-batch';

export class ScriptedBackend implements BrainBackend {
  readonly name = 'scripted';
  readonly batches: InferRequest[][] = [];
  readonly ended: string[] = [];
  delayMs = 0;
  /** Misbehaviour applied to requests of these robots (all robots under key '*'). */
  misbehave = new Map<string, Misbehaviour>();
  closed = false;

  constructor(private readonly latentDim = 7) {}

  accepts(h: Hello): string | null {
    return h.latentDim === this.latentDim ? null : `latent_dim ${h.latentDim}, this backend makes ${this.latentDim}`;
  }

  async infer(batch: readonly InferRequest[], ctx: InferContext): Promise<InferResult[]> {
    this.batches.push([...batch]);
    const all = this.misbehave.get('*') ?? 'none';
    if (all === 'throw') throw new Error('model exploded');
    if (all === 'hang') return new Promise<InferResult[]>(() => undefined);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (ctx.signal.aborted) throw new Error('aborted');
    const out = batch.map((r, i): InferResult => {
      const how = this.misbehave.get(r.session.hello.robotId) ?? 'none';
      const z = new Float32Array(how === 'wrong-dims' ? this.latentDim + 1 : this.latentDim);
      z[0] = r.observation.seq;
      z[1] = r.observation.state[0] ?? 0;
      z.fill(i, 2);
      if (how === 'nan') z[1] = NaN;
      return { ok: true, latent: z };
    });
    return all === 'short-batch' ? out.slice(1) : out;
  }

  endSession(sessionId: string): void {
    this.ended.push(sessionId);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
