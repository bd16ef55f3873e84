/** What the control tick asks of whoever runs the decoder, and the one tick step that decides it.
 * Shared by the control worker and the single-thread simulation (testing/sim-loop.ts). */
import type { ChunkScheduler } from './chunk-scheduler.js';
import { SwitchPolicy } from './switch-policy.js';

/** A request for the next chunk, computed from the observation captured at originUs. */
export interface NextChunkRequest {
  /** µs, host clock: capture time of the observation; the new chunk is aligned to it. */
  originUs: number;
  /** rad, per joint: the observed positions (the decoder's state input). */
  state: Float32Array;
  /** inpaint policy: the old trajectory at the new chunk's rows, [rows, A] rad, and how many rows
   * are committed; null otherwise. */
  prefix: { actions: Float32Array; committed: number } | null;
}

export type RequestChunk = (req: NextChunkRequest) => void;

/**
 * One scheduling tick at nowUs: issues a request when one is due (with a prefix for inpainting),
 * then writes the target for nowUs into `out`. Returns false when no chunk covers nowUs.
 * `obsPosition`/`obsTimeUs`: the latest observation (rad, µs); a request needs one (obsTimeUs > 0).
 * Allocates only when it issues a request (a few times a second).
 */
export function schedulerTick(s: ChunkScheduler, nowUs: number, out: Float64Array, obsPosition: ArrayLike<number>, obsTimeUs: number, request: RequestChunk): boolean {
  if (obsTimeUs > 0 && s.shouldRequest(nowUs)) {
    let prefix: NextChunkRequest['prefix'] = null;
    if (s.policy === SwitchPolicy.INPAINT) {
      const p = s.planPrefix(obsTimeUs, nowUs);
      if (p.rows > 0) prefix = { actions: s.prefix.slice(0, p.rows * s.jointCount), committed: p.committed };
    }
    s.requestIssued(nowUs);
    request({ originUs: obsTimeUs, state: Float32Array.from({ length: s.jointCount }, (_, j) => obsPosition[j] as number), prefix });
  }
  return s.sample(nowUs, out);
}
