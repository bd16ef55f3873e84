/** How the scheduler passes from one chunk to the next (chunk-scheduler.ts). */
export const SwitchPolicy = {
  /** The newest chunk takes over at once. */
  HARD: 'hard',
  /** Blend old → new over `crossfadeUs` with a smoothstep weight 3w² − 2w³. */
  CROSSFADE: 'crossfade',
  /** ACT temporal ensembling: every chunk covering now, weights exp(−m·i), i = 0 for the oldest. */
  ENSEMBLE: 'ensemble',
  /** Hard switch, but the request passes the committed actions as ChunkRequest.prefix so the
   * decoder continues the trajectory (real-time chunking); needs a prefix-capable decoder. */
  INPAINT: 'inpaint',
} as const;
export type SwitchPolicy = (typeof SwitchPolicy)[keyof typeof SwitchPolicy];

export interface SchedulerOptions {
  jointCount: number;
  /** Rows per chunk (the decoder's horizon H). */
  horizon: number;
  /** µs between chunk rows; row h is the target for originUs + (h + 1) · stepUs. */
  stepUs: number;
  policy: SwitchPolicy;
  /** crossfade: blend duration, µs. Default 4 steps. */
  crossfadeUs?: number;
  /** ensemble: ACT's m, per chunk of age. Default 0.1. */
  ensembleDecay?: number;
  /** ensemble: chunks kept. Default 8. */
  maxChunks?: number;
  /** ensemble: extra lead so chunks overlap, µs. Default half a chunk. */
  ensembleOverlapUs?: number;
  /** Decode latency assumed before any is measured, µs. Default 100 000. */
  initialLatencyUs?: number;
  /** Added to the latency estimate (max of the recent window), µs. Default 20 000. */
  latencyMarginUs?: number;
  /** Latencies kept for the estimate. Default 16. */
  latencyWindow?: number;
  /** After a failed request, wait this long before the next, µs. Default 20 000. */
  retryUs?: number;
  /**
   * Where a request's state comes from. 'schedule' (default): the scheduled target at the
   * observation's time when a chunk covers it and the measured position is within
   * `followToleranceRad` of it on every joint, else the measurement; 'measured': always the
   * measurement. See ChunkScheduler.requestState.
   */
  requestState?: 'schedule' | 'measured';
  /** 'schedule': largest |scheduled - measured| on a joint, rad, for the robot to count as following. Default 0.2. */
  followToleranceRad?: number;
}
