/** Public API of the control loop (edge/control). */
export { SwitchPolicy, type SchedulerOptions } from './switch-policy.js';
export { ChunkScheduler, type PrefixPlan } from './chunk-scheduler.js';
export { schedulerTick, type NextChunkRequest, type RequestChunk } from './chunk-request.js';
export { ChunkFeeder, type ChunkFeederOptions, type FeedResult } from './chunk-feeder.js';
export { CommandMailbox } from './command-mailbox.js';
export { ControlLoop, DEFAULT_RATE_HZ, MAX_RATE_HZ, type ControlLoopEvents, type ControlLoopOptions, type ControlLoopStats } from './control-loop.js';
export { tickWorkerUrl } from './tick-worker-url.js';
