/**
 * A decoder stand-in on an injected clock: each request resolves `latencyMs` later (clock time)
 * with a chunk from `trajectory` (row h of [H, A], rad), honouring a prefix's committed rows
 * exactly as the real runtime does. For scheduler tests and the smoothness benchmark.
 */
import type { Clock } from '../../clock.js';
import type { ActionDecoder, ChunkRequest, DecodeHandle, DecodeOutcome, LoadedModelInfo } from '../../decoder/index.js';

export type Trajectory = (req: ChunkRequest, h: number, j: number) => number;

export class FakeDecoder implements ActionDecoder {
  readonly info: LoadedModelInfo;
  readonly requests: ChunkRequest[] = [];
  latencyMs: number;
  failNext: 'non-finite' | 'nan-chunk' | null = null;
  private nextId = 1;

  constructor(private readonly clock: Clock, readonly horizon: number, readonly actionDim: number, latencyMs: number, private readonly trajectory: Trajectory, supportsPrefix = true) {
    this.latencyMs = latencyMs;
    this.info = { spec: { horizon, actionDim, supportsPrefix, kind: supportsPrefix ? 'denoiser' : 'fused' } } as unknown as LoadedModelInfo;
  }

  decode(req: ChunkRequest): DecodeHandle {
    const id = this.nextId++;
    this.requests.push(req);
    const H = this.horizon, A = this.actionDim;
    const fail = this.failNext;
    this.failNext = null;
    const outcome = new Promise<DecodeOutcome>((resolve) => {
      this.clock.setTimeout(() => {
        if (fail === 'non-finite') {
          resolve({ status: 'failed', id, error: { code: 'non-finite', message: 'model produced NaN' } });
          return;
        }
        const actions = new Float32Array(H * A);
        for (let h = 0; h < H; h++) for (let j = 0; j < A; j++) actions[h * A + j] = this.trajectory(req, h, j);
        const p = req.prefix;
        if (p !== undefined) actions.set(p.actions.subarray(0, p.committed * A));
        if (fail === 'nan-chunk') actions[3] = Number.NaN;
        resolve({ status: 'done', id, actions, sampler: 'euler', steps: 1, timing: { decodeMs: this.latencyMs, modelMs: this.latencyMs, evaluations: 1 } });
      }, this.latencyMs);
    });
    return { id, outcome };
  }

  cancel(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
