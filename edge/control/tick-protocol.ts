/** Messages between the control loop (owner of the decoder and the link) and its tick worker. */
import type { MailboxMemory } from './command-mailbox.js';
import type { NextChunkRequest } from './chunk-request.js';
import type { SchedulerOptions } from './switch-policy.js';
import type { GateReport, TickWireOptions } from './tick-wire.js';

export const TICK_WORKER_MARK = 'spinal-control-tick-worker';

export interface TickWorkerData {
  mark: typeof TICK_WORKER_MARK;
  mailbox: MailboxMemory;
  jointCount: number;
  /** The estimator's ObservationBuffer memory (read-only here). */
  observation: SharedArrayBuffer;
  periodUs: number;
  scheduler: SchedulerOptions;
  /** performance.timeOrigin of the owning thread, ms: ticks are stamped on its clock. */
  hostTimeOriginMs: number;
  /**
   * µs before each deadline at which the thread stops sleeping and polls the clock until the
   * deadline instead (0: sleep all the way). See tick-worker.ts.
   */
  spinUs: number;
  /** Present when this thread owns motion on the wire (gate, COMMAND, HEARTBEAT, liveness). */
  wire?: TickWireOptions;
}

/** Owner → worker, through the MessagePort the worker polls each tick (receiveMessageOnPort). */
export type ToTick =
  | { type: 'chunk'; actions: Float32Array; originUs: number }
  | { type: 'request-failed' }
  | { type: 'reset' };

/** Worker → owner. */
export type FromTick =
  /** `tid`: the thread's kernel id (null when unknown), for per-thread CPU accounting. */
  | { type: 'started'; tid: number | null }
  | { type: 'request'; request: NextChunkRequest }
  | { type: 'exited'; ticks: number }
  | GateReport;
