/**
 * The control loop, owner side. Thread ownership (see README.md beside this file):
 * - the tick worker (tick-worker.ts) owns timing and scheduling: it wakes on absolute deadlines,
 *   samples the chunk schedule and publishes a target per tick in shared memory;
 * - this thread owns the serial port (SerialLink: handshake, heartbeats, ESTOP, RESET all live
 *   here), the decoder handle and the safety supervisor. It waits on the mailbox with
 *   Atomics.waitAsync (no message per tick), passes each target through the CommandGate (state,
 *   bad numbers, limits) and writes the COMMAND. If this thread stalls, ticks coalesce: only the
 *   newest target is sent (a stale command is worse than none), and the MCU watchdog stops the
 *   robot if the stall outlasts it.
 * Decode requests come from the worker (when the schedule needs a chunk) and go to the decoder
 * through a ChunkFeeder; chunks go back over a MessagePort the worker polls each tick.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { RobotProfile } from '../../hardware/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { ActionDecoder } from '../decoder/index.js';
import type { ObservationBuffer } from '../estimation/observation-buffer.js';
import { CommandGate, type CommandSink } from '../safety/command-gate.js';
import { SafetyState } from '../safety/safety-state.js';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import { ChunkFeeder, type ChunkFeederOptions, type FeedResult } from './chunk-feeder.js';
import type { NextChunkRequest } from './chunk-request.js';
import { CommandMailbox, MAILBOX_HEADER, Slot, Word } from './command-mailbox.js';
import { quantileInPlace } from './quantile.js';
import type { SchedulerOptions } from './switch-policy.js';
import { TICK_WORKER_MARK, type FromTick, type TickWorkerData, type ToTick } from './tick-protocol.js';
import { tickWorkerUrl } from './tick-worker-url.js';

/** Atomics.waitAsync (V8, Node >= 16; typed only from lib ES2024, this project targets ES2023). */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, timeoutMs?: number) => WaitAsyncResult }).waitAsync;

export const MAX_RATE_HZ = 1000;
export const DEFAULT_RATE_HZ = 200;
/** The window of recentLatenessUs(): this many seconds of ticks, at least RECENT_MIN_SAMPLES. */
const RECENT_WINDOW_S = 2;
const RECENT_MIN_SAMPLES = 100;

export interface ControlLoopOptions {
  profile: RobotProfile;
  /** Tick rate, Hz, 1..1000; default 200. */
  rateHz?: number;
  /** Chunk schedule (horizon, row period, policy, …); jointCount comes from the profile. */
  scheduler: Omit<SchedulerOptions, 'jointCount'>;
  decoder: ActionDecoder;
  /** The estimator's published observation (its `shared` memory goes to the worker). */
  observation: ObservationBuffer;
  /** Where commands go (the SerialLink). */
  link: CommandSink;
  supervisor: SafetySupervisor;
  /** The present plan's latent, or null when there is none (the plan's TTL is the supervisor's). */
  latent: () => Float32Array | null;
  feeder?: ChunkFeederOptions;
  /** Default systemClock (the worker stamps ticks on this thread's performance clock). */
  clock?: Clock;
  /** Lateness samples kept (ring); default 65 536. */
  latenessCapacity?: number;
}

export type ControlLoopEvents = {
  chunk: [ev: { originUs: number; decodeMs: number }];
  'feed-failed': [ev: FeedResult];
  /** The tick worker ended while the loop was running (the supervisor is told: FAULT). */
  'worker-failed': [ev: { detail: string }];
};

export interface ControlLoopStats {
  ticks: number;
  overruns: number;
  requests: number;
  /** Commands the gate put on the wire. */
  sent: number;
  /** µs: tick deadline → worker woke (the worker's own lateness). */
  lateness: Float64Array;
  /** µs: worker published → this thread handed the command to the link. */
  handoff: Float64Array;
}

export class ControlLoop extends EventEmitter<ControlLoopEvents> {
  readonly gate: CommandGate;
  readonly mailbox: CommandMailbox;
  readonly periodUs: number;
  private readonly o: ControlLoopOptions;
  private readonly clock: Clock;
  private readonly feeder: ChunkFeeder;
  private readonly n: number;
  private readonly target: Float64Array;
  private readonly measured: Float64Array;
  private readonly head = new Float64Array(MAILBOX_HEADER);
  private readonly handoff: Float64Array;
  private handoffCount = 0;
  /** Scratch for recentLatenessUs(), sized once: the window, bounded by the lateness ring. */
  private readonly recentLate: Float64Array;
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private running = false;
  private pumping: Promise<void> = Promise.resolve();
  private lastTick = -1;

  constructor(o: ControlLoopOptions) {
    super();
    const rate = o.rateHz ?? DEFAULT_RATE_HZ;
    if (!(rate >= 1 && rate <= MAX_RATE_HZ)) throw new RangeError(`control rate ${rate} Hz is outside 1..${MAX_RATE_HZ}`);
    this.o = o;
    this.n = o.profile.joints.length;
    this.periodUs = 1e6 / rate;
    this.clock = o.clock ?? systemClock;
    this.gate = new CommandGate(o.profile, o.link, o.supervisor, this.clock, this.periodUs / 1000);
    this.mailbox = CommandMailbox.create(this.n, o.latenessCapacity ?? 1 << 16);
    this.feeder = new ChunkFeeder(o.decoder, o.latent, this.n, o.feeder);
    this.target = new Float64Array(this.n);
    this.measured = new Float64Array(this.n);
    this.handoff = new Float64Array(o.latenessCapacity ?? 1 << 16);
    this.recentLate = new Float64Array(Math.min(this.mailbox.lateness.length, Math.max(RECENT_MIN_SAMPLES, Math.ceil(RECENT_WINDOW_S * rate))));
    o.supervisor.on('transition', (ev) => {
      if (ev.to === SafetyState.ESTOP || ev.to === SafetyState.FAULT) this.toWorker({ type: 'reset' });
    });
  }

  /** Starts the tick worker; resolves once it runs. */
  async start(): Promise<void> {
    if (this.running) throw new Error('ControlLoop already started');
    if (!(this.o.observation.shared instanceof SharedArrayBuffer)) throw new Error('ControlLoop needs the observation in a SharedArrayBuffer');
    const data: TickWorkerData = {
      mark: TICK_WORKER_MARK, mailbox: this.mailbox.memory, jointCount: this.n, observation: this.o.observation.shared,
      periodUs: this.periodUs, scheduler: { ...this.o.scheduler, jointCount: this.n }, hostTimeOriginMs: performance.timeOrigin,
    };
    Atomics.store(this.mailbox.words, Word.STOP, 0);
    const worker = new Worker(tickWorkerUrl(), { workerData: data });
    const { port1, port2 } = new MessageChannel();
    this.worker = worker;
    this.port = port1;
    this.running = true;
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => { started = resolve; });
    worker.on('message', (m: FromTick) => {
      if (m.type === 'request') void this.onRequest(m.request);
      else if (m.type === 'started') started();
    });
    const failed = (detail: string): void => {
      if (!this.running) return;
      this.running = false;
      this.emit('worker-failed', { detail });
      this.o.supervisor.controlFailed(detail);
    };
    worker.on('error', (e) => failed(`control tick worker failed: ${e.message}`));
    worker.on('exit', (code) => failed(`control tick worker exited with code ${code}`));
    worker.postMessage({ port: port2 }, [port2]);
    this.pumping = this.pump();
    // Loading from TypeScript sources (tests) takes a while; the compiled worker starts at once.
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('control tick worker did not start within 15 s')), 15_000).unref());
    await Promise.race([running, timeout]);
  }

  /** Stops the worker (it finishes its present tick) and the pump. */
  async stop(): Promise<void> {
    if (this.worker === null) return;
    const w = this.worker;
    this.running = false;
    this.worker = null;
    Atomics.store(this.mailbox.words, Word.STOP, 1);
    Atomics.notify(this.mailbox.words, Word.STOP);
    Atomics.notify(this.mailbox.words, Word.SEQ);
    await Promise.race([new Promise((r) => w.once('exit', r)), new Promise((r) => setTimeout(r, 1000))]);
    await w.terminate();
    this.port?.close();
    this.port = null;
    await this.pumping;
  }

  /** Ticks handed over so far: cheap, for liveness checks (stats() copies its sample rings). */
  get ticks(): number {
    return this.lastTick + 1;
  }

  /**
   * µs: the q-quantile (nearest rank) of the tick lateness over the last ~2 s of ticks (at least
   * 100 ticks, at most the ring), or null before the first tick. For telemetry at tens of Hz: it
   * copies one window into preallocated scratch and selects (O(window), no allocation, nothing
   * added to the tick), where stats() copies the whole ring.
   */
  recentLatenessUs(q: number): number | null {
    const n = this.mailbox.recentLateness(this.recentLate);
    return n === 0 ? null : quantileInPlace(this.recentLate, n, q);
  }

  stats(): ControlLoopStats {
    const w = this.mailbox.words;
    return {
      ticks: this.lastTick + 1,
      overruns: Atomics.load(w, Word.OVERRUNS),
      requests: Atomics.load(w, Word.REQUESTS),
      sent: this.gate.lastSent.count,
      lateness: this.mailbox.latenessSamples(),
      handoff: this.handoff.slice(0, Math.min(this.handoffCount, this.handoff.length)),
    };
  }

  private toWorker(m: ToTick): void {
    this.port?.postMessage(m);
  }

  /** Waits for each published tick and sends its command. */
  private async pump(): Promise<void> {
    const words = this.mailbox.words;
    let seen = Atomics.load(words, Word.SEQ);
    while (this.running) {
      const w = waitAsync(words, Word.SEQ, seen, 200);
      if (w.async) await w.value;
      if (!this.running) break;
      const s = Atomics.load(words, Word.SEQ);
      if ((s & 1) !== 0 || s === seen) continue;
      if (!this.mailbox.read(this.target, this.measured, this.head)) continue;
      seen = s;
      const tick = this.head[Slot.TICK] as number;
      if (tick === this.lastTick) continue;
      this.lastTick = tick;
      const haveObs = (this.head[Slot.OBS_TIME_US] as number) > 0;
      this.gate.submit(this.head[Slot.OK] === 1 ? this.target : null, haveObs ? this.measured : null, this.head[Slot.OBS_TIME_US] as number);
      this.handoff[this.handoffCount++ % this.handoff.length] = this.clock.nowUs() - (this.head[Slot.TIME_US] as number);
    }
  }

  private async onRequest(req: NextChunkRequest): Promise<void> {
    let r: FeedResult;
    try {
      r = await this.feeder.run(req);
    } catch (e) {
      r = { status: 'failed', badNumbers: false, detail: (e as Error).message };
    }
    if (r.status === 'chunk') {
      this.toWorker({ type: 'chunk', actions: r.actions, originUs: r.originUs });
      this.emit('chunk', { originUs: r.originUs, decodeMs: r.decodeMs });
      return;
    }
    this.toWorker({ type: 'request-failed' });
    if (r.status === 'failed') {
      if (r.badNumbers) this.o.supervisor.badNumbers(r.detail);
      else this.o.supervisor.decoderFailed(r.detail);
    }
    this.emit('feed-failed', r);
  }
}
