/**
 * One robot's Brain.Session stream, from Hello to close.
 *
 * States: awaiting-hello -> open -> (draining ->) closed; awaiting-hello -> closed on a refused hello.
 * Invariants:
 * - at most one observation waits (the slot: newest wins) and at most one is with the backend
 *   (`inFlight`: being prepared, e.g. its frame decoded, or batched), so a slow backend or a slow
 *   client never builds a queue for this session, and its frames hold at most one decoder;
 * - a plan is requested only while the client's write side accepts data: when a write reports a
 *   full buffer, nothing more is submitted until 'drain', and errors meanwhile are dropped (counted);
 * - plan ids strictly increase; every plan names the observation it answers;
 * - nothing one session does (bad input, backend error, slow reads) touches another's state.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  BRAIN_PROTOCOL_MAJOR, BRAIN_PROTOCOL_MINOR, checkActionChunk, checkLatent, checkObservation, issueToError, type BrainError, type BrainMessage, type EdgeMessage,
  type Hello, type Issue, type Observation, type SessionInfo,
} from '../../proto/brain/index.js';
import type { BrainBackend, InferRequest, InferResult, PrepareResult, Task } from '../backends/backend.js';
import type { Clock } from '../clock.js';
import type { PeerIdentity } from '../security/peer-identity.js';
import { admit } from './admission.js';
import type { Batcher } from './batcher.js';
import type { BrainMetrics } from './brain-metrics.js';
import { ObservationSlot, type SlotEntry } from './observation-slot.js';
import type { TaskStore } from './task-store.js';

export type SessionStream = grpc.ServerDuplexStream<EdgeMessage, BrainMessage>;

/** What a session needs from its server (one object, shared by all sessions). */
export interface SessionHost {
  readonly backend: BrainBackend;
  readonly batcher: Batcher;
  readonly metrics: BrainMetrics;
  readonly clock: Clock;
  readonly tasks: TaskStore;
  readonly robots: ReadonlySet<string>;
  readonly planValidityMs: number;
  readonly draining: boolean;
  newSessionId(): string;
  /** Registers a session whose hello was admitted; returns the session of the same robot it
   * replaces, if any. */
  register(s: BrainSession): BrainSession | null;
  /** The session closed (whatever its state). */
  unregister(s: BrainSession): void;
}

type State = 'awaiting-hello' | 'open' | 'draining' | 'closed';

export class BrainSession {
  private state: State = 'awaiting-hello';
  private hello: Hello | null = null;
  readonly sessionId: string;
  private readonly slot = new ObservationSlot();
  private inFlight: Promise<void> | null = null;
  private writeBlocked = false;
  private lastSeq: number | null = null;
  private lastPlanId = 0;
  private connectedSinceUs = 0;
  private readonly counts = { observations: 0, plans: 0, errors: 0 };

  constructor(private readonly call: SessionStream, private readonly host: SessionHost, private readonly peer: PeerIdentity | null | 'plaintext') {
    this.sessionId = host.newSessionId();
    call.on('data', (m: EdgeMessage) => this.onMessage(m));
    call.on('end', () => this.endStream()); // the robot half-closed: so do we
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
    call.on('drain', () => { this.writeBlocked = false; this.pump(); });
  }

  get robotId(): string {
    return this.hello?.robotId ?? '';
  }

  info(): SessionInfo {
    const task = this.host.tasks.get(this.robotId);
    return {
      robotId: this.robotId, sessionId: this.sessionId, profileId: this.hello?.profileId ?? '',
      taskId: task.taskId, instruction: task.instruction, observations: this.counts.observations,
      plans: this.counts.plans, errors: this.counts.errors, connectedSinceUs: this.connectedSinceUs,
      backendStatus: (this.hello !== null ? this.host.backend.status?.(this.sessionId) : null) ?? '',
    };
  }

  /** The operator changed this robot's task. */
  pushTask(task: Task): void {
    if (this.state !== 'open') return;
    this.write({ msg: 'task', task }); // always sent, even to a slow reader: rare and small
  }

  /** Another session of the same robot took over: tell this one why and end it. */
  replaced(): void {
    this.sendError({ code: 'OVERLOADED', message: 'a newer session of this robot replaced this one', observationSeq: 0 }, true);
    this.endStream();
  }

  /** Clean shutdown: accept no more observations, let the plan in progress go out, then end. */
  async drain(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.state = 'draining';
    await this.inFlight;
    if ((this.state as State) === 'closed') return; // the stream ended while the plan was made
    this.sendError({ code: 'OVERLOADED', message: 'the brain is shutting down; reconnect later', observationSeq: 0 }, true);
    this.endStream();
  }

  private onMessage(m: EdgeMessage): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    if (m.msg === 'hello') this.onHello(m.hello);
    else if (m.msg === 'observation') this.onObservation(m.observation);
  }

  private onHello(hello: Hello): void {
    if (this.state !== 'awaiting-hello') {
      this.refuse({ code: 'INCOMPATIBLE', reason: 'second-hello', message: 'hello sent twice in one session' });
      return;
    }
    const refusal = admit({ hello, robots: this.host.robots, peer: this.peer, backend: this.host.backend, draining: this.host.draining });
    if (refusal !== null) {
      this.refuse(refusal);
      return;
    }
    this.hello = hello;
    this.state = 'open';
    this.connectedSinceUs = this.host.clock.nowUs();
    this.host.metrics.sessions.inc();
    this.host.register(this)?.replaced();
    const task = this.host.tasks.get(hello.robotId);
    this.write({
      msg: 'welcome',
      welcome: {
        sessionId: this.sessionId, backend: this.host.backend.name, protocolMajor: BRAIN_PROTOCOL_MAJOR, taskId: task.taskId, instruction: task.instruction,
        protocolMinor: BRAIN_PROTOCOL_MINOR, planKind: this.host.backend.planKind === 'action-chunk' ? 'PLAN_KIND_ACTION_CHUNK' : 'PLAN_KIND_LATENT',
      },
    });
  }

  private refuse(i: Issue): void {
    this.host.metrics.sessionsRefused.inc({ code: i.code });
    this.sendError(issueToError(i), true);
    this.endStream();
  }

  private onObservation(o: Observation): void {
    const hello = this.hello;
    if (this.state !== 'open' || hello === null) {
      this.refuse({ code: 'INCOMPATIBLE', reason: 'no-hello', message: 'observation before hello: the first message must be a hello' });
      return;
    }
    const m = this.host.metrics;
    m.observationsReceived.inc();
    this.counts.observations++;
    const issue = checkObservation(o, { stateDim: hello.stateDim, lastSeq: this.lastSeq });
    if (issue !== null) {
      m.observationsRejected.inc({ reason: issue.reason });
      this.sendError(issueToError(issue, o.seq));
      return;
    }
    this.lastSeq = o.seq;
    const entry: SlotEntry = { observation: o, receivedTimeUs: this.host.clock.nowUs(), receivedMonoMs: this.host.clock.monoMs() };
    if (this.slot.put(entry) !== null) m.observationsSuperseded.inc();
    this.pump();
  }

  /** Hands the waiting observation to the batcher when nothing is in flight and the client reads. */
  private pump(): void {
    if (this.state !== 'open' || this.inFlight !== null || this.writeBlocked || this.hello === null) return;
    const entry = this.slot.take();
    if (entry === null) return;
    const task = this.host.tasks.get(this.hello.robotId);
    const request = { session: { sessionId: this.sessionId, hello: this.hello }, observation: entry.observation, task };
    // Straight to the batcher when the backend prepares nothing (no extra turn of the event loop).
    const answered = this.host.backend.prepare === undefined
      ? this.host.batcher.submit(request)
      : this.prepare(request).then((p) => ('refused' in p ? p.refused : this.host.batcher.submit(p.request)));
    this.inFlight = answered
      .then((r) => {
        this.inFlight = null;
        this.answer(entry, task, r);
        this.pump();
      });
  }

  /**
   * The backend's per-request work (decoding the camera frame, off the event loop) before the
   * batcher: a slow or refused frame holds only this session's observation, never a batch.
   * A refusal is answered to this robot and counted by reason.
   */
  private async prepare(request: InferRequest): Promise<{ request: InferRequest } | { refused: InferResult }> {
    const backend = this.host.backend;
    let p: PrepareResult;
    try {
      p = await (backend.prepare?.(request) ?? Promise.resolve<PrepareResult>({ ok: true, request }));
    } catch (e) {
      p = { ok: false, code: 'BACKEND_FAILED', reason: 'prepare-failed', message: `backend "${backend.name}" could not prepare the observation: ${(e as Error).message}` };
    }
    if (p.ok) return { request: p.request };
    this.host.metrics.observationsRejected.inc({ reason: p.reason });
    return { refused: { ok: false, code: p.code, message: p.message } };
  }

  private answer(entry: SlotEntry, task: Task, r: InferResult): void {
    const hello = this.hello;
    if ((this.state !== 'open' && this.state !== 'draining') || hello === null) return;
    const seq = entry.observation.seq;
    if (!r.ok) {
      this.sendError({ code: r.code, message: r.message, observationSeq: seq });
      return;
    }
    // Both kinds are checked against the robot here, whatever the backend checked: a bad answer is
    // an Error to this robot (which then holds when its plan lapses), never a plan.
    const chunk = r.chunk !== undefined ? {
      rows: r.chunk.rows, actionDim: r.chunk.actionDim, stepUs: r.chunk.stepUs, actions: Array.from(r.chunk.actions),
      source: this.host.backend.name, policyMs: Math.max(0, Math.round(r.chunk.policyMs ?? 0)),
    } : null;
    const bad = chunk !== null
      // Rows are the policy's; the edge resamples them to its own step and keeps what it can.
      ? checkActionChunk(chunk, hello.joints)
      : checkLatent(r.latent, hello.latentDim);
    if (bad !== null) {
      this.host.metrics.backendErrors.inc({ kind: 'bad-output' });
      this.sendError({ code: 'BACKEND_FAILED', message: `backend "${this.host.backend.name}" answered observation ${seq} badly: ${bad.message}`, observationSeq: seq });
      return;
    }
    this.lastPlanId++;
    this.write({
      msg: 'plan',
      plan: {
        planId: this.lastPlanId, observationSeq: seq, latent: chunk === null ? Array.from(r.latent) : [], createdTimeUs: this.host.clock.nowUs(),
        validForMs: this.host.planValidityMs, observationReceivedTimeUs: entry.receivedTimeUs, taskId: task.taskId,
        ...(chunk !== null ? { actionChunk: chunk } : {}),
      },
    });
    this.counts.plans++;
    this.host.metrics.plansSent.inc();
    this.host.metrics.planLatency.observe((this.host.clock.monoMs() - entry.receivedMonoMs) / 1000);
    if (r.notice !== undefined) this.sendError({ code: r.notice.code, message: r.notice.message, observationSeq: seq });
  }

  /** Sends an Error; while the client's buffer is full an error is dropped (counted), unless `force`. */
  private sendError(e: BrainError, force = false): void {
    this.counts.errors++;
    if (this.writeBlocked && !force) {
      this.host.metrics.errorsDropped.inc({ code: e.code });
      return;
    }
    this.host.metrics.errorsSent.inc({ code: e.code });
    this.write({ msg: 'error', error: e });
  }

  private write(m: BrainMessage): void {
    if (this.state === 'closed') return;
    if (!this.call.write(m)) this.writeBlocked = true;
  }

  private endStream(): void {
    if (this.state === 'closed') return;
    this.call.end();
    this.close();
  }

  /** Idempotent: releases the session's resources and registration. */
  private close(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open' || this.state === 'draining';
    this.state = 'closed';
    this.slot.take();
    this.host.unregister(this);
    if (wasOpen) {
      this.host.metrics.sessions.dec();
      this.host.backend.endSession(this.sessionId);
    }
  }
}
