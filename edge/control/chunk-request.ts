/** What the control tick asks of whoever runs the decoder, and the one tick step that decides it.
 * Shared by the control worker and the single-thread simulation (testing/sim-loop.ts). */
import type { ChunkScheduler } from './chunk-scheduler.js';
import { SwitchPolicy } from './switch-policy.js';

/** A request for the next chunk, computed from the observation captured at originUs. */
export interface NextChunkRequest {
  /** µs, host clock: the time of `state`, to which the new chunk is aligned: the expected arrival
   * when the state is the schedule's, else the observation's capture time. */
  originUs: number;
  /** rad, per joint: the decoder's state input: the scheduled target at originUs while the robot
   * follows the schedule, else the observed positions (ChunkScheduler.requestState). */
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
    // The scheduled target at the expected arrival while the robot follows the schedule, else the
    // measurement (ChunkScheduler.requestState); the chunk is aligned to the state's time.
    const state = new Float64Array(s.jointCount);
    const { originUs, fromSchedule } = s.requestState(nowUs, obsTimeUs, obsPosition, state);
    let prefix: NextChunkRequest['prefix'] = null;
    if (s.policy === SwitchPolicy.INPAINT) {
      const p = s.planPrefix(originUs, nowUs);
      if (p.rows > 0) prefix = { actions: s.prefix.slice(0, p.rows * s.jointCount), committed: p.committed };
    }
    s.requestIssued(nowUs, originUs, fromSchedule);
    request({ originUs, state: Float32Array.from(state), prefix });
  }
  return s.sample(nowUs, out);
}
