/**
 * CloudLink: the edge's side of the brain session (proto/brain/brain.proto). It opens one
 * bidirectional gRPC stream, says Hello, streams Observations at a fixed rate (newest wins: never
 * a queue of stale ones), validates every Plan before anyone sees it, tracks the current plan's
 * validity and says when it lapses, estimates the clock offset and the round trip, and reconnects
 * with jittered backoff when the brain goes away. Nothing the brain or the network does throws:
 * it is counted (health()) and reported as events.
 *
 * Invariants:
 * - `client` is non-null iff the state is CONNECTING, HELLO or ACTIVE; `call` iff HELLO or ACTIVE.
 * - Callbacks of a client or call carry the `generation` they were made for; teardown bumps it, so
 *   a late event from a dropped stream is ignored.
 * - `helloTimer` exists only in HELLO, `tickTimer` only in ACTIVE, `retryTimer` only in BACKOFF or
 *   INCOMPATIBLE. `expiryTimer` exists iff the current plan has not lapsed (in any state but
 *   CLOSED): losing the brain does not cancel a plan's validity, only its lapse ends it.
 * - At most one observation is being written at any time (`writing`); a tick that finds the write
 *   side busy is counted as superseded and the next observation, built fresh when the write
 *   completes, replaces it. Observation seq strictly increases for the link's lifetime.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import {
  BRAIN_PROTOCOL_MAJOR, MAX_IMAGE_BYTES, brainServiceDefinitions,
  type BrainMessage, type CameraFrame as WireFrame, type EdgeMessage, type ErrorCode, type Hello, type Plan,
} from '../../proto/brain/index.js';
import type { CameraSource } from '../camera/camera-source.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { newObservation, type Observation } from '../estimation/index.js';
import { Backoff, DEFAULT_BACKOFF } from '../serial/backoff.js';
import type { LinkLogger } from '../serial/serial-link-types.js';
import { ClockOffsetEstimator } from './clock-offset.js';
import { CloudLinkState, CloudLinkStateMachine } from './cloud-link-state.js';
import type {
  AcceptedPlan, CloudLinkCounters, CloudLinkEvents, CloudLinkHealth, CloudLinkOptions, StateSource,
} from './cloud-link-types.js';
import { buildHello } from './hello-message.js';
import { LatencyWindow } from './latency-window.js';
import { PLAN_REJECT_REASONS, validatePlan, type PlanRejectReason } from './plan-validation.js';
import { SentObservations } from './sent-observations.js';
import { CloudLinkConfigError, channelCredentials } from './transport-security.js';

const S = CloudLinkState;
const LIVE: readonly CloudLinkState[] = [S.CONNECTING, S.HELLO, S.ACTIVE];
const NOT_CLOSED: readonly CloudLinkState[] = [S.IDLE, ...LIVE, S.BACKOFF, S.INCOMPATIBLE];
/** Brain error codes that refuse the robot: retrying at the normal pace would not help. */
const REFUSALS: readonly ErrorCode[] = ['UNKNOWN_ROBOT', 'IDENTITY_MISMATCH', 'INCOMPATIBLE'];
/** gRPC statuses that end a handshake as a refusal (the brain closed the stream without an Error). */
const REFUSAL_STATUSES: readonly number[] = [grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED];
const KEEPALIVE_TIMEOUT_MS = 5_000;
const NO_FRAMES: readonly WireFrame[] = Object.freeze([]) as readonly WireFrame[];

const silentLogger: LinkLogger = { debug() {}, info() {}, warn() {}, error() {} };

type SessionCall = grpc.ClientDuplexStream<EdgeMessage, BrainMessage>;

function newCounters(): CloudLinkCounters {
  const rejected = {} as Record<PlanRejectReason, number>;
  for (const r of PLAN_REJECT_REASONS) rejected[r] = 0;
  return {
    connectAttempts: 0, connectFailures: 0, helloTimeouts: 0, sessions: 0, losses: 0, incompatible: 0,
    observationsSent: 0, observationsSuperseded: 0, observationsNoState: 0, framesAttached: 0, framesOversized: 0,
    plansReceived: 0, plansAccepted: 0, plansRejected: rejected, plansExpired: 0, taskChanges: 0, brainErrors: {},
    protocolViolations: 0,
  };
}

export class CloudLink extends EventEmitter<CloudLinkEvents> {
  readonly target: string;
  readonly robotId: string;
  /** The Hello this link opens every session with. */
  readonly hello: Hello;
  private readonly clock: Clock;
  private readonly logger: LinkLogger;
  private readonly epochOffsetUs: number;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly method: MethodDefinition<EdgeMessage, BrainMessage>;
  private readonly backoff: Backoff;
  private readonly connectTimeoutMs: number;
  private readonly helloTimeoutMs: number;
  private readonly periodMs: number;
  private readonly maxObservationAgeMs: number;
  private readonly latentDim: number;
  private readonly state: StateSource;
  private readonly cameras: readonly CameraSource[];
  private readonly sm: CloudLinkStateMachine;
  private readonly counters = newCounters();
  private readonly offset: ClockOffsetEstimator;
  private readonly roundTrip: LatencyWindow;
  private readonly planAge: LatencyWindow;
  /** Sized to remember every observation a plan may still answer (maxObservationAgeMs at the rate). */
  private readonly sent: SentObservations;
  /** The snapshot each observation is built from (reused). */
  private readonly snapshot: Observation;
  /** Per camera: frameSeq of the last frame sent in this session; -1 for none. */
  private readonly lastFrameSeq: Float64Array;

  private generation = 0;
  private client: grpc.Client | null = null;
  private call: SessionCall | null = null;
  private helloTimer: TimerHandle | null = null;
  private tickTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private expiryTimer: TimerHandle | null = null;
  private nextTickUs = 0;
  private writing = false;
  private needDrain = false;
  /** A tick found the write side busy: send a fresh observation as soon as it frees. */
  private owed = false;
  private seq = 0;
  private lastPlanId = -1;
  private lastPlanObservationSeq = -1;
  /** µs: the latest accepted plan's round trip in this session; NaN until its first (see roundTripMs). */
  private sessionRoundTripUs = Number.NaN;
  private plan: AcceptedPlan | null = null;
  private task = { taskId: '', instruction: '' };
  private session: { sessionId: string; backend: string } | null = null;
  private transitionReason = '';

  constructor(opts: CloudLinkOptions) {
    super();
    const rate = opts.observationRateHz ?? 10;
    if (!(rate >= 5 && rate <= 30)) throw new CloudLinkConfigError(`observationRateHz must be within 5..30, got ${rate}`);
    if (opts.decoder.stateDim !== opts.state.jointCount) {
      throw new CloudLinkConfigError(`decoder state_dim ${opts.decoder.stateDim} differs from the ${opts.state.jointCount} joint positions the link sends`);
    }
    if (opts.state.jointCount !== opts.profile.joints.length) {
      throw new CloudLinkConfigError(`state source has ${opts.state.jointCount} joints, profile "${opts.profile.id}" ${opts.profile.joints.length}`);
    }
    const cameras = opts.cameras ?? [];
    const ids = new Set(cameras.map((c) => c.id));
    if (ids.size !== cameras.length) throw new CloudLinkConfigError(`camera ids must be unique, got ${cameras.map((c) => c.id).join(', ')}`);
    this.target = opts.target;
    this.robotId = opts.robotId;
    this.credentials = channelCredentials(opts.target, opts.tls); // throws on plaintext to non-loopback
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.epochOffsetUs = opts.epochOffsetUs ?? Math.round(performance.timeOrigin * 1000);
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, opts.random);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.helloTimeoutMs = opts.helloTimeoutMs ?? 5_000;
    this.periodMs = 1000 / rate;
    this.maxObservationAgeMs = opts.maxObservationAgeMs ?? 1_000;
    this.sent = new SentObservations(Math.max(128, Math.ceil((rate * this.maxObservationAgeMs) / 1000) + 16));
    this.latentDim = opts.decoder.latentDim;
    this.state = opts.state;
    this.cameras = cameras;
    this.snapshot = newObservation(opts.state.jointCount);
    this.lastFrameSeq = new Float64Array(cameras.length).fill(-1);
    this.offset = new ClockOffsetEstimator(opts.offsetWindow ?? 32);
    this.roundTrip = new LatencyWindow(opts.latencyWindow ?? 256);
    this.planAge = new LatencyWindow(opts.latencyWindow ?? 256);
    this.method = brainServiceDefinitions().brain['Session'] as MethodDefinition<EdgeMessage, BrainMessage>;
    this.hello = buildHello({
      robotId: opts.robotId, softwareVersion: opts.softwareVersion, profile: opts.profile, decoder: opts.decoder,
      cameraIds: cameras.map((c) => c.id), ...(opts.maxChunkRows !== undefined ? { maxChunkRows: opts.maxChunkRows } : {}),
    });
    this.channelOptions = {
      'grpc.keepalive_time_ms': opts.keepaliveMs ?? 10_000,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      'grpc.keepalive_permit_without_calls': 1,
      // Each attempt gets its own channel and subchannel: the link's backoff, not grpc's, paces retries.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
      ...(opts.tls?.serverName !== undefined ? { 'grpc.ssl_target_name_override': opts.tls.serverName, 'grpc.default_authority': opts.tls.serverName } : {}),
    };
    this.sm = new CloudLinkStateMachine((from, to) => {
      const reason = this.transitionReason;
      this.transitionReason = '';
      this.logger.debug({ from, to, reason }, 'cloud link state');
      this.emit('state-change', { from, to, reason });
    });
  }

  get linkState(): CloudLinkState {
    return this.sm.state;
  }

  /** The task the edge believes is current ("" when none). */
  get taskId(): string {
    return this.task.taskId;
  }

  /**
   * ms: this session's latest observation → plan round trip; null while no session is up (not
   * ACTIVE) or before the session's first accepted plan. O(1), unlike health(), for telemetry at
   * tens of Hz.
   */
  get roundTripMs(): number | null {
    return this.sm.is(S.ACTIVE) && !Number.isNaN(this.sessionRoundTripUs) ? this.sessionRoundTripUs / 1000 : null;
  }

  /** The last accepted plan (it may have lapsed: see health().currentPlan or 'plan-expired'). */
  currentPlan(): AcceptedPlan | null {
    return this.plan;
  }

  /** Starts connecting; from IDLE only. */
  start(): void {
    this.move([S.IDLE], S.CONNECTING, '');
    this.connect();
  }

  /** Ends the session and every timer; terminal. Idempotent. */
  close(): void {
    if (this.sm.is(S.CLOSED)) return;
    this.teardown();
    this.clearTimer('retryTimer');
    this.clearTimer('expiryTimer');
    this.move(NOT_CLOSED, S.CLOSED, 'closed');
  }

  health(): CloudLinkHealth {
    const c = this.counters;
    return {
      ...c,
      plansRejected: { ...c.plansRejected },
      brainErrors: { ...c.brainErrors },
      state: this.sm.state,
      sessionId: this.session?.sessionId ?? null,
      backend: this.session?.backend ?? null,
      clockOffset: this.offset.estimate(),
      roundTrip: this.roundTrip.summary(),
      planAge: this.planAge.summary(),
      currentPlan: this.plan ? { planId: this.plan.planId, remainingMs: (this.plan.expiresAtUs - this.clock.nowUs()) / 1000, kind: this.plan.kind } : null,
    };
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  private move(from: readonly CloudLinkState[], to: CloudLinkState, reason: string): void {
    this.transitionReason = reason;
    this.sm.transition(from, to);
  }

  /** CONNECTING: a fresh channel; HELLO once it is ready, BACKOFF when it fails or times out. */
  private connect(): void {
    const gen = ++this.generation;
    this.counters.connectAttempts++;
    const client = new grpc.Client(this.target, this.credentials, this.channelOptions);
    this.client = client;
    // The transport's own wait is real time (grpc-js timers); the link's timers use this.clock.
    const deadline = Date.now() + this.connectTimeoutMs;
    const watch = (): void => {
      if (gen !== this.generation) return;
      const channel = client.getChannel();
      const st = channel.getConnectivityState(true);
      if (st === grpc.connectivityState.READY) return this.openSession(gen, client);
      if (st === grpc.connectivityState.TRANSIENT_FAILURE || st === grpc.connectivityState.SHUTDOWN) {
        return this.connectFailed(`cannot reach the brain at ${this.target} (${grpc.connectivityState[st]})`);
      }
      channel.watchConnectivityState(st, deadline, (err) => {
        if (gen !== this.generation) return;
        if (err) this.connectFailed(`the brain at ${this.target} did not answer within ${this.connectTimeoutMs} ms`);
        else watch();
      });
    };
    watch();
  }

  private connectFailed(reason: string): void {
    this.counters.connectFailures++;
    this.reportError('transport', 'UNAVAILABLE', reason, 0);
    this.enterBackoff(reason);
  }

  /** HELLO: the stream is open and Hello written; the Welcome must come within helloTimeoutMs. */
  private openSession(gen: number, client: grpc.Client): void {
    const call = client.makeBidiStreamRequest<EdgeMessage, BrainMessage>(this.method.path, this.method.requestSerialize, this.method.responseDeserialize);
    this.call = call;
    call.on('data', (m: BrainMessage) => {
      if (gen === this.generation) this.onMessage(m);
    });
    call.on('error', (e: grpc.ServiceError) => {
      if (gen === this.generation) this.onStreamEnd(e.code, `stream failed: ${grpc.status[e.code] ?? e.code} ${e.details}`);
    });
    call.on('end', () => {
      if (gen === this.generation) this.onStreamEnd(grpc.status.OK, 'the brain ended the stream');
    });
    this.move([S.CONNECTING], S.HELLO, '');
    this.helloTimer = this.clock.setTimeout(() => {
      this.helloTimer = null;
      this.counters.helloTimeouts++;
      this.lose(`no Welcome within ${this.helloTimeoutMs} ms of Hello`);
    }, this.helloTimeoutMs);
    call.write({ msg: 'hello', hello: this.hello });
  }

  private onStreamEnd(code: number, reason: string): void {
    if (!this.sm.is(S.HELLO, S.ACTIVE)) return;
    if (code !== grpc.status.OK) this.reportError('transport', grpc.status[code] ?? String(code), reason, 0);
    if (this.sm.is(S.HELLO) && REFUSAL_STATUSES.includes(code)) return this.refuse(`the brain refused the session: ${reason}`);
    this.lose(reason);
  }

  /** The session (or handshake) is gone: count it and back off. */
  private lose(reason: string): void {
    this.counters.losses++;
    this.logger.warn({ reason }, 'cloud link lost');
    this.enterBackoff(reason);
  }

  private enterBackoff(reason: string): void {
    this.teardown();
    this.move(LIVE, S.BACKOFF, reason);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.move([S.BACKOFF], S.CONNECTING, '');
      this.connect();
    }, this.backoff.next());
  }

  /** The brain refused this robot: hold INCOMPATIBLE and retry only at the backoff's maximum. */
  private refuse(reason: string): void {
    this.counters.incompatible++;
    this.logger.error({ reason }, 'cloud link refused');
    this.teardown();
    this.move([S.HELLO, S.ACTIVE], S.INCOMPATIBLE, reason);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.move([S.INCOMPATIBLE], S.CONNECTING, '');
      this.connect();
    }, this.backoff.atMax());
  }

  /** Drops the stream and the channel and every per-connection timer. */
  private teardown(): void {
    this.generation++;
    this.clearTimer('helloTimer');
    this.clearTimer('tickTimer');
    this.writing = false;
    this.needDrain = false;
    this.owed = false;
    this.session = null;
    const call = this.call;
    const client = this.client;
    this.call = null;
    this.client = null;
    call?.cancel();
    client?.close();
  }

  private clearTimer(name: 'helloTimer' | 'tickTimer' | 'retryTimer' | 'expiryTimer'): void {
    const t = this[name];
    if (t !== null) this.clock.clearTimeout(t);
    this[name] = null;
  }

  private reportError(source: 'brain' | 'transport', code: string, message: string, observationSeq: number): void {
    if (this.listenerCount('error') > 0) this.emit('error', { source, code, message, observationSeq });
  }

  // ---- brain messages -------------------------------------------------------------------------

  private onMessage(m: BrainMessage): void {
    switch (m.msg) {
      case 'welcome': {
        if (!this.sm.is(S.HELLO)) return this.violation('a second Welcome');
        const w = m.welcome;
        if (w.protocolMajor !== BRAIN_PROTOCOL_MAJOR) {
          return this.refuse(`the brain speaks protocol major ${w.protocolMajor}, this edge speaks ${BRAIN_PROTOCOL_MAJOR}`);
        }
        this.clearTimer('helloTimer');
        this.backoff.reset();
        this.counters.sessions++;
        this.session = { sessionId: w.sessionId, backend: w.backend };
        this.lastPlanId = -1; // plan ids are per session
        this.sessionRoundTripUs = Number.NaN;
        this.lastFrameSeq.fill(-1);
        this.move([S.HELLO], S.ACTIVE, '');
        this.emit('welcome', { sessionId: w.sessionId, backend: w.backend, planKind: w.planKind === 'PLAN_KIND_ACTION_CHUNK' ? 'action-chunk' : 'latent', taskId: w.taskId, instruction: w.instruction });
        if (w.taskId !== this.task.taskId) this.setTask(w.taskId, w.instruction);
        this.startTicks();
        return;
      }
      case 'plan':
        if (!this.sm.is(S.ACTIVE)) return this.violation(`plan ${m.plan.planId} before Welcome`);
        return this.onPlan(m.plan);
      case 'task':
        return this.setTask(m.task.taskId, m.task.instruction);
      case 'error': {
        const e = m.error;
        this.counters.brainErrors[e.code] = (this.counters.brainErrors[e.code] ?? 0) + 1;
        this.reportError('brain', e.code, e.message, e.observationSeq);
        if (REFUSALS.includes(e.code)) this.refuse(`the brain refused the session: ${e.code}: ${e.message}`);
        return;
      }
    }
  }

  private violation(what: string): void {
    this.counters.protocolViolations++;
    this.logger.warn({ what }, 'cloud link: brain message out of place');
  }

  private setTask(taskId: string, instruction: string): void {
    this.counters.taskChanges++;
    this.task = { taskId, instruction };
    this.emit('task', { taskId, instruction });
  }

  private onPlan(p: Plan): void {
    this.counters.plansReceived++;
    const now = this.clock.nowUs();
    const v = validatePlan(p, {
      latentDim: this.latentDim, joints: this.hello.joints, lastPlanId: this.lastPlanId, lastPlanObservationSeq: this.lastPlanObservationSeq,
      maxObservationAgeMs: this.maxObservationAgeMs, sent: this.sent, nowUs: now,
    });
    if (!v.ok) {
      this.counters.plansRejected[v.reason]++;
      this.logger.debug({ reason: v.reason, detail: v.detail }, 'plan rejected');
      this.emit('plan-rejected', { reason: v.reason, planId: p.planId, observationSeq: p.observationSeq, detail: v.detail });
      return;
    }
    this.counters.plansAccepted++;
    this.lastPlanId = p.planId;
    this.lastPlanObservationSeq = p.observationSeq;
    if (p.observationReceivedTimeUs !== 0 && p.createdTimeUs !== 0) {
      this.offset.add(v.sendUs + this.epochOffsetUs, p.observationReceivedTimeUs, p.createdTimeUs, now + this.epochOffsetUs);
    }
    this.sessionRoundTripUs = now - v.sendUs;
    this.roundTrip.add(this.sessionRoundTripUs);
    this.planAge.add(now - v.captureUs);
    const c = p.actionChunk ?? null;
    const plan: AcceptedPlan = {
      planId: p.planId, observationSeq: p.observationSeq, kind: c === null ? 'latent' : 'action-chunk', latent: Float32Array.from(p.latent),
      chunk: c === null ? null : { rows: c.rows, stepUs: c.stepUs, actions: Float32Array.from(c.actions), source: c.source, policyMs: c.policyMs },
      taskId: p.taskId,
      captureUs: v.captureUs, expiresAtUs: v.expiresAtUs, receivedUs: now, createdTimeUs: p.createdTimeUs,
    };
    this.plan = plan;
    this.clearTimer('expiryTimer');
    this.expiryTimer = this.clock.setTimeout(() => this.onExpiry(plan), (v.expiresAtUs - now) / 1000);
    this.emit('plan', plan);
  }

  /** The current plan lapsed without a newer one: whoever executes it must hold now. */
  private onExpiry(plan: AcceptedPlan): void {
    this.expiryTimer = null;
    if (this.plan !== plan) return;
    // Real timers may fire a fraction of a millisecond early: never report a lapse before it happens.
    const leftUs = plan.expiresAtUs - this.clock.nowUs();
    if (leftUs > 0) {
      this.expiryTimer = this.clock.setTimeout(() => this.onExpiry(plan), leftUs / 1000);
      return;
    }
    this.counters.plansExpired++;
    this.emit('plan-expired', { planId: plan.planId, observationSeq: plan.observationSeq, expiresAtUs: plan.expiresAtUs, linkState: this.sm.state });
  }

  // ---- observations ---------------------------------------------------------------------------

  private startTicks(): void {
    this.nextTickUs = this.clock.nowUs();
    this.tick();
  }

  private tick(): void {
    this.tickTimer = null;
    const now = this.clock.nowUs();
    this.nextTickUs += this.periodMs * 1000;
    if (this.nextTickUs <= now) this.nextTickUs = now + this.periodMs * 1000; // fell behind: do not burst
    this.tickTimer = this.clock.setTimeout(() => this.tick(), (this.nextTickUs - now) / 1000);
    if (this.writing || this.needDrain) {
      this.counters.observationsSuperseded++;
      this.owed = true;
      return;
    }
    this.sendObservation();
  }

  /** The previous write completed (or the stream drained): pay an owed observation, built now. */
  private writeSettled(): void {
    if (this.writing || this.needDrain || !this.owed || !this.sm.is(S.ACTIVE)) return;
    this.owed = false;
    this.sendObservation();
  }

  private sendObservation(): void {
    const call = this.call;
    if (call === null) return;
    const snap = this.snapshot;
    if (!this.state.read(snap) || snap.sampleCount === 0) {
      this.counters.observationsNoState++;
      return;
    }
    const seq = ++this.seq;
    const now = this.clock.nowUs();
    const state = new Array<number>(snap.jointCount);
    for (let j = 0; j < snap.jointCount; j++) state[j] = snap.position[j] as number;
    this.sent.record(seq, snap.hostTimeUs, now);
    const frames = this.collectFrames();
    const msg: EdgeMessage = {
      msg: 'observation',
      observation: {
        seq,
        captureTimeUs: Math.round(snap.hostTimeUs + this.epochOffsetUs),
        sendTimeUs: Math.round(now + this.epochOffsetUs),
        state,
        frames,
        taskId: this.task.taskId,
      },
    };
    const gen = this.generation;
    this.writing = true;
    const ok = call.write(msg, () => {
      if (gen !== this.generation) return;
      this.writing = false;
      this.writeSettled();
    });
    this.counters.observationsSent++;
    if (this.listenerCount('observation-sent') > 0) {
      const off = this.epochOffsetUs;
      this.emit('observation-sent', {
        seq, captureUs: snap.hostTimeUs, sendUs: now, state, taskId: this.task.taskId,
        frames: frames.map((f) => ({ cameraId: f.cameraId, encoding: f.encoding, data: f.data, width: f.width, height: f.height, captureUs: f.captureTimeUs - off })),
      });
    }
    if (!ok) {
      this.needDrain = true;
      call.once('drain', () => {
        if (gen !== this.generation) return;
        this.needDrain = false;
        this.writeSettled();
      });
    }
  }

  /** The newest frame of each camera, if it is new in this session. */
  private collectFrames(): WireFrame[] {
    let frames: WireFrame[] | null = null;
    for (let c = 0; c < this.cameras.length; c++) {
      const f = (this.cameras[c] as CameraSource).latest();
      if (f === null || f.frameSeq === this.lastFrameSeq[c]) continue;
      this.lastFrameSeq[c] = f.frameSeq;
      if (f.data.length > MAX_IMAGE_BYTES) {
        this.counters.framesOversized++;
        continue;
      }
      frames ??= [];
      frames.push({
        cameraId: f.cameraId, encoding: f.encoding, data: f.data, width: f.width, height: f.height,
        captureTimeUs: Math.round(f.captureTimeUs + this.epochOffsetUs),
      });
      this.counters.framesAttached++;
    }
    return frames ?? (NO_FRAMES as WireFrame[]);
  }
}
