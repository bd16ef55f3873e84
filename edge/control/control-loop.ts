/**
 * The control loop, owner side. Thread ownership (see README.md beside this file):
 * - the tick worker (tick-worker.ts) owns timing and scheduling: it wakes on absolute deadlines,
 *   samples the chunk schedule and publishes a target per tick in shared memory;
 * - with `wire` (the daemon), the tick worker also owns motion on the wire: it runs the CommandGate
 *   and writes COMMAND and HEARTBEAT frames on the serial fd itself (tick-wire.ts), reading the
 *   supervisor's state from shared memory this thread keeps up to date, and it supervises this
 *   thread's liveness (MAIN_BEAT): a stall beyond `mainStallBoundMs` makes it hold the robot, and
 *   this thread, once back, emits 'main-stalled' and puts the supervisor in HOLD until resumed;
 * - without `wire` (today's path, kept for transports without an fd and for the benchmark's
 *   side-by-side), this thread waits on the mailbox with Atomics.waitAsync, passes each target
 *   through the CommandGate and hands the COMMAND to the link; if it stalls, ticks coalesce and the
 *   MCU watchdog stops the robot once the stall outlasts it.
 * This thread always keeps the decoder handle, the safety supervisor and the serial link's
 * event-driven frames (handshake, time sync, ESTOP, RESET).
 * Decode requests come from the worker (when the schedule needs a chunk) and go to the decoder
 * through a ChunkFeeder; chunks go back over a MessagePort the worker polls each tick.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { RobotProfile } from '../../hardware/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { ActionDecoder } from '../decoder/index.js';
import type { ObservationBuffer } from '../estimation/observation-buffer.js';
import { CommandGate, type CommandGateEvents, type CommandSink, type LastSent } from '../safety/command-gate.js';
import type { SharedWire } from '../serial/shared-wire.js';
import { SafetyState } from '../safety/safety-state.js';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import { ChunkFeeder, type ChunkFeederOptions, type FeedResult } from './chunk-feeder.js';
import type { NextChunkRequest } from './chunk-request.js';
import { CommandMailbox, MAILBOX_HEADER, SafetySlot, SentSlot, Slot, Stall, Word } from './command-mailbox.js';
import { hostStateOf } from '../safety/host-state.js';
import { quantileInPlace } from './quantile.js';
import type { SchedulerOptions } from './switch-policy.js';
import { TICK_WORKER_MARK, type FromTick, type TickWorkerData, type ToTick } from './tick-protocol.js';
import { tickWorkerUrl } from './tick-worker-url.js';

/** Atomics.waitAsync (V8, Node >= 16; typed only from lib ES2024, this project targets ES2023). */
type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, timeoutMs?: number) => WaitAsyncResult }).waitAsync;

export const MAX_RATE_HZ = 1000;
/** Default bound on a main-loop stall before the tick thread holds the robot (ms). */
export const DEFAULT_MAIN_STALL_BOUND_MS = 100;
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
  /**
   * Where chunks come from now: 'decoder' (latent plans: a request runs the decoder) or 'plans'
   * (action-chunk plans: chunks arrive through pushChunk() as the brain sends them, and a request
   * waits for the next one). Default: always 'decoder'.
   */
  chunkSource?: () => 'decoder' | 'plans';
  feeder?: ChunkFeederOptions;
  /** Default systemClock (the worker stamps ticks on this thread's performance clock). */
  clock?: Clock;
  /** Lateness samples kept (ring); default 65 536. */
  latenessCapacity?: number;
  /**
   * The serial link's send side (SerialLink.wire): when given, the tick thread gates and writes
   * COMMAND and HEARTBEAT frames itself on the port's fd; `link` is then not used for commands.
   */
  wire?: SharedWire;
  /** With `wire`: longest gap between watchdog feeds from the tick thread, ms; default 20. */
  heartbeatIntervalMs?: number;
  /** With `wire`: a main-loop stall longer than this makes the tick thread hold the robot; default 100 ms. */
  mainStallBoundMs?: number;
  /**
   * µs before each tick's deadline at which the tick thread stops sleeping and polls the clock up
   * to the deadline (a hybrid wait: less wake-up lateness, paid for in CPU). Default 0: it sleeps
   * all the way (see tick-worker.ts for the measured trade).
   */
  tickSpinUs?: number;
}

/** The gate as seen from this thread: its events and the latest command it put on the wire. */
export interface LoopGate extends EventEmitter<CommandGateEvents> {
  readonly lastSent: LastSent;
}

/** The gate running in the tick thread, seen from here: events relayed, lastSent read from shared memory. */
class RemoteGate extends EventEmitter<CommandGateEvents> implements LoopGate {
  private readonly sent: LastSent;
  constructor(private readonly mb: CommandMailbox, n: number) {
    super();
    this.sent = {
      count: 0, atUs: Number.NaN, mode: 0, position: new Float64Array(n), velocity: new Float64Array(n), clampFlags: new Uint8Array(n),
      clampedJoints: 0, clampedCommands: 0,
    };
  }

  get lastSent(): LastSent {
    this.mb.readSent(this.sent);
    return this.sent;
  }
}

export type ControlLoopEvents = {
  /** A decoded chunk went to the schedule; `actions` ([rows, A] rad) is not to be written to. */
  chunk: [ev: { originUs: number; decodeMs: number; actions: Float32Array }];
  /** An action chunk from a plan went to the schedule (rows at the schedule's step). */
  'action-chunk': [ev: { originUs: number; rows: number; actions: Float32Array }];
  'feed-failed': [ev: FeedResult];
  /** The tick worker ended while the loop was running (the supervisor is told: FAULT). */
  'worker-failed': [ev: { detail: string }];
  /**
   * This thread's event loop stalled longer than the bound while the tick thread owned the wire;
   * that thread held the robot meanwhile, and the supervisor now holds it until resumed.
   */
  'main-stalled': [ev: { stalledMs: number; boundMs: number }];
};

export interface ControlLoopStats {
  ticks: number;
  overruns: number;
  requests: number;
  /** Commands the gate put on the wire. */
  sent: number;
  /** µs: tick deadline → worker woke (the worker's own lateness). */
  lateness: Float64Array;
  /** µs: worker published → this thread handed the command to the link (empty with `wire`). */
  handoff: Float64Array;
  /** µs: tick deadline → COMMAND handed to the kernel (tick thread with `wire`, else this thread). */
  wire: Float64Array;
}

export class ControlLoop extends EventEmitter<ControlLoopEvents> {
  readonly gate: LoopGate;
  /** The tick thread's kernel id once it runs (null when unknown): its CPU is in /proc/self/task/<id>/stat. */
  tickThreadId: number | null = null;
  /** The gate on this thread (without `wire`); null when the tick thread runs it. */
  private readonly localGate: CommandGate | null;
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
  private readonly wireLate: Float64Array;
  private wireCount = 0;
  private beatTimer: NodeJS.Timeout | null = null;
  /** Scratch for recentLatenessUs(), sized once: the window, bounded by the lateness ring. */
  private readonly recentLate: Float64Array;
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private running = false;
  private pumping: Promise<void> = Promise.resolve();
  private lastTick = -1;
  /** A request the tick thread made while chunks come from plans: the next pushChunk() answers it. */
  private parkedRequest = false;

  constructor(o: ControlLoopOptions) {
    super();
    const rate = o.rateHz ?? DEFAULT_RATE_HZ;
    if (!(rate >= 1 && rate <= MAX_RATE_HZ)) throw new RangeError(`control rate ${rate} Hz is outside 1..${MAX_RATE_HZ}`);
    this.o = o;
    this.n = o.profile.joints.length;
    this.periodUs = 1e6 / rate;
    this.clock = o.clock ?? systemClock;
    this.mailbox = CommandMailbox.create(this.n, o.latenessCapacity ?? 1 << 16);
    this.localGate = o.wire ? null : new CommandGate(o.profile, o.link, o.supervisor, this.clock, this.periodUs / 1000);
    this.gate = this.localGate ?? new RemoteGate(this.mailbox, this.n);
    this.feeder = new ChunkFeeder(o.decoder, o.latent, this.n, o.feeder);
    this.target = new Float64Array(this.n);
    this.measured = new Float64Array(this.n);
    this.handoff = new Float64Array(o.latenessCapacity ?? 1 << 16);
    this.wireLate = new Float64Array(o.wire ? 1 : o.latenessCapacity ?? 1 << 16);
    this.recentLate = new Float64Array(Math.min(this.mailbox.lateness.length, Math.max(RECENT_MIN_SAMPLES, Math.ceil(RECENT_WINDOW_S * rate))));
    this.publishSafety();
    // The epoch can change without a transition (a restart or a stop while already stopped).
    o.supervisor.on('command-epoch', () => this.publishSafety());
    o.supervisor.on('transition', (ev) => {
      this.publishSafety();
      if (ev.to === SafetyState.ESTOP || ev.to === SafetyState.FAULT) this.toWorker({ type: 'reset' });
    });
  }

  /** The supervisor's state for the tick thread's gate: SAFETY and HOLD_CHUNK, then SAFETY_GEN. */
  private publishSafety(): void {
    const w = this.mailbox.words;
    const sup = this.o.supervisor;
    Atomics.store(w, Word.SAFETY, hostStateOf(sup.state));
    Atomics.store(w, Word.HOLD_CHUNK, sup.holdReason === 'chunk-exhausted' ? 1 : 0);
    Atomics.store(w, Word.CMD_EPOCH, sup.commandEpoch | 0);
    this.mailbox.safety[SafetySlot.ACTIVE_SINCE_US] = sup.activeSinceUs;
    Atomics.add(w, Word.SAFETY_GEN, 1);
  }

  /** Starts the tick worker; resolves once it runs. */
  async start(): Promise<void> {
    if (this.running) throw new Error('ControlLoop already started');
    if (!(this.o.observation.shared instanceof SharedArrayBuffer)) throw new Error('ControlLoop needs the observation in a SharedArrayBuffer');
    const data: TickWorkerData = {
      mark: TICK_WORKER_MARK, mailbox: this.mailbox.memory, jointCount: this.n, observation: this.o.observation.shared,
      periodUs: this.periodUs, scheduler: { ...this.o.scheduler, jointCount: this.n }, hostTimeOriginMs: performance.timeOrigin,
      spinUs: Math.min(Math.max(0, this.o.tickSpinUs ?? 0), this.periodUs),
      ...(this.o.wire ? {
        wire: {
          wire: this.o.wire.memory, profile: this.o.profile, heartbeatUs: (this.o.heartbeatIntervalMs ?? 20) * 1000,
          stallBoundUs: this.stallBoundMs * 1000,
        },
      } : {}),
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
      else if (m.type === 'started') { this.tickThreadId = m.tid; started(); }
      else this.onGateReport(m);
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
    if (this.localGate) {
      this.pumping = this.pump(this.localGate);
    } else {
      // The tick thread watches this beat; a timer keeps it moving while the event loop runs.
      const beatMs = Math.max(1, Math.min(10, this.stallBoundMs / 4));
      this.beatTimer = setInterval(this.beat, beatMs);
      this.beatTimer.unref();
      this.beat();
    }
    // The compiled worker starts at once. From TypeScript sources (tests) every worker transpiles
    // its modules again: 8-15 s measured on a 2-core machine under a load average of 19, so more time.
    const limitS = tickWorkerUrl().protocol === 'data:' ? 60 : 15;
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`control tick worker did not start within ${limitS} s`)), limitS * 1000).unref());
    await Promise.race([running, timeout]);
  }

  /** Stops the worker (it finishes its present tick) and the pump. */
  async stop(): Promise<void> {
    if (this.worker === null) return;
    const w = this.worker;
    this.running = false;
    this.worker = null;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
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
    return this.localGate ? this.lastTick + 1 : (this.mailbox.slots[Slot.TICK] as number) + (Atomics.load(this.mailbox.words, Word.LATE_IDX) > 0 ? 1 : 0);
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
      ticks: this.ticks,
      overruns: Atomics.load(w, Word.OVERRUNS),
      requests: Atomics.load(w, Word.REQUESTS),
      sent: this.gate.lastSent.count,
      lateness: this.mailbox.latenessSamples(),
      handoff: this.handoff.slice(0, Math.min(this.handoffCount, this.handoff.length)),
      wire: this.localGate ? this.wireLate.slice(0, Math.min(this.wireCount, this.wireLate.length)) : this.mailbox.wireSamples(),
    };
  }

  /**
   * An action chunk from a plan ([rows, A] rad at the schedule's step, 1 <= rows <= horizon),
   * aligned to the capture time of the observation it answers. It goes through the same schedule
   * (alignment, switching), gate (limits, state) and wire as a decoded chunk.
   */
  pushChunk(actions: Float32Array, originUs: number): void {
    this.parkedRequest = false;
    this.toWorker({ type: 'chunk', actions, originUs });
    this.emit('action-chunk', { originUs, rows: actions.length / this.n, actions });
  }

  /** The chunk source changed (e.g. a brain with another backend): a request parked for a plan
   * chunk is released so the tick thread asks again, now of the decoder. */
  chunkSourceChanged(): void {
    if (!this.parkedRequest) return;
    this.parkedRequest = false;
    this.toWorker({ type: 'request-failed' });
  }

  private toWorker(m: ToTick): void {
    this.port?.postMessage(m);
  }

  private get stallBoundMs(): number {
    return this.o.mainStallBoundMs ?? DEFAULT_MAIN_STALL_BOUND_MS;
  }

  /** The main thread's liveness beat; also takes over a stall the tick thread reports as ended. */
  private readonly beat = (): void => {
    const w = this.mailbox.words;
    Atomics.add(w, Word.MAIN_BEAT, 1);
    if (Atomics.load(w, Word.STALL) !== Stall.ENDED) return;
    const stalledMs = this.mailbox.sent[SentSlot.STALL_MS] as number;
    const boundMs = this.stallBoundMs;
    // The supervisor first (HOLD until resumed), then STALL cleared: the tick thread keeps holding
    // until it sees both, in that order.
    this.o.supervisor.controlStalled(`main event loop stalled for ${Math.round(stalledMs)} ms (bound ${boundMs} ms): the tick thread held the robot`);
    this.publishSafety();
    Atomics.store(w, Word.STALL, Stall.NONE);
    this.emit('main-stalled', { stalledMs, boundMs });
  };

  private onGateReport(m: FromTick): void {
    const sup = this.o.supervisor;
    if (m.type === 'gate') {
      if (m.what === 'chunk-exhausted') sup.chunkExhausted();
      else sup.chunkResumed();
    } else if (m.type === 'bad-numbers') {
      this.gate.emit('bad-numbers', { detail: m.detail, at: this.clock.nowUs() });
      sup.badNumbers(m.detail);
    } else if (m.type === 'clamped') {
      this.gate.emit('clamped', m.ev);
    }
  }

  /** Waits for each published tick and sends its command (without `wire`). */
  private async pump(gate: CommandGate): Promise<void> {
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
      const sent = gate.submit(this.head[Slot.OK] === 1 ? this.target : null, haveObs ? this.measured : null, this.head[Slot.OBS_TIME_US] as number);
      const now = this.clock.nowUs();
      this.handoff[this.handoffCount++ % this.handoff.length] = now - (this.head[Slot.TIME_US] as number);
      if (sent) this.wireLate[this.wireCount++ % this.wireLate.length] = now - ((this.head[Slot.TIME_US] as number) - (this.head[Slot.LATENESS_US] as number));
    }
  }

  private async onRequest(req: NextChunkRequest): Promise<void> {
    if (this.o.chunkSource?.() === 'plans') {
      // The brain sends chunks at its own pace; the request stays in flight until one arrives.
      this.parkedRequest = true;
      return;
    }
    let r: FeedResult;
    try {
      r = await this.feeder.run(req);
    } catch (e) {
      r = { status: 'failed', badNumbers: false, detail: (e as Error).message };
    }
    if (r.status === 'chunk') {
      this.toWorker({ type: 'chunk', actions: r.actions, originUs: r.originUs });
      this.emit('chunk', { originUs: r.originUs, decodeMs: r.decodeMs, actions: r.actions });
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
