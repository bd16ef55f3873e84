/**
 * The brain server: Brain.Session streams (one BrainSession each), the Operator service, standard
 * gRPC health checking, and Prometheus metrics on an HTTP /metrics endpoint. It owns the batcher
 * between sessions and the backend, the task store and the robot -> session registry.
 *
 * Shutdown (stop), in this order so a balancer never sends a robot back to a replica on its way out:
 * 1. gRPC health and the HTTP /healthz turn NOT_SERVING / 503 and new hellos are refused (OVERLOADED);
 * 2. with a /healthz endpoint, the drain waits until it has answered `downAfterChecks` checks with
 *    503 (the balancer has marked this replica down), at most `noticeTimeoutMs`;
 * 3. every session drains (its plan in progress goes out, then an Error "shutting down" and the end
 *    of its stream: the edge reconnects at once, through the balancer, to another replica);
 * 4. the gRPC server shuts down gracefully, which waits for the robots' connections to close, forced
 *    after `drainTimeoutMs` (counted from step 3); last the backend closes.
 */
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { pino, type Logger } from 'pino';
import {
  BRAIN_SERVICE, OPERATOR_SERVICE, brainServiceDefinitions, type SessionInfo,
} from '../../proto/brain/index.js';
import type { BrainBackend, Task } from '../backends/backend.js';
import { systemClock, type Clock } from '../clock.js';
import { identityFromCertificate, type PeerIdentity } from '../security/peer-identity.js';
import { serverCredentials, type TlsPem } from '../security/server-credentials.js';
import { Batcher } from './batcher.js';
import { BrainMetrics } from './brain-metrics.js';
import { startHealthEndpoint, type HealthEndpoint } from './health-http.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './metrics-http.js';
import { operatorHandlers } from './operator-service.js';
import { BrainSession, type SessionHost, type SessionStream } from './session.js';
import { MemoryTaskStore, type TaskStore } from './task-store.js';

/** The gRPC health service name of the task store: NOT_SERVING while SetTask cannot store a task. */
export const TASK_STORE_SERVICE = 'spinal.tasks.TaskStore';

export interface BatchingOptions {
  /** Most requests in one backend call. */
  maxBatch: number;
  /** Longest a request waits for others before its batch leaves (ms). */
  maxWaitMs: number;
  /** Backend calls running at once. */
  maxInFlight: number;
}

export interface KeepaliveOptions {
  /** Server pings an idle connection this often (ms). */
  timeMs: number;
  /** ...and drops it when the ping is not answered within this (ms). */
  timeoutMs: number;
}

export interface BrainServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Mutual TLS; null for plaintext, which is refused unless `host` is loopback. */
  tls: TlsPem | null;
  robots: readonly string[];
  backend: BrainBackend;
  batching?: Partial<BatchingOptions>;
  /** Deadline of one backend call (ms). */
  backendTimeoutMs?: number;
  /** Plan.valid_for_ms of every plan. */
  planValidityMs?: number;
  /** The /metrics endpoint; null: none. Port 0 picks a free port. */
  metrics?: { host: string; port: number } | null;
  keepalive?: Partial<KeepaliveOptions>;
  /** Largest EdgeMessage accepted (bytes); larger ones fail the stream with RESOURCE_EXHAUSTED. */
  maxReceiveBytes?: number;
  drainTimeoutMs?: number;
  /** The plain HTTP /healthz endpoint for load balancers; null or absent: none. Port 0 picks a free port. */
  health?: HealthOptions | null;
  /** Names this replica in its session ids ("<replicaId>-s1"), so robots, logs and operators can tell replicas apart. */
  replicaId?: string;
  clock?: Clock;
  logger?: Logger;
  /** Also export Node process metrics (CPU, memory, event loop lag). */
  processMetrics?: boolean;
  /** Where tasks live (default: this process's memory); the server closes it at stop. */
  tasks?: TaskStore;
}

export interface HealthOptions {
  host: string;
  port: number;
  /** 503 answers the balancer needs before it marks a replica down (HAProxy's `fall`). */
  downAfterChecks?: number;
  /** Longest the drain waits for those answers before it sends the robots away anyway (ms). */
  noticeTimeoutMs?: number;
}

export const DEFAULT_HEALTH_DOWN_AFTER_CHECKS = 2;
export const DEFAULT_HEALTH_NOTICE_TIMEOUT_MS = 5_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 64, maxWaitMs: 2, maxInFlight: 2 };
export const DEFAULT_KEEPALIVE: KeepaliveOptions = { timeMs: 10_000, timeoutMs: 5_000 };
export const DEFAULT_BACKEND_TIMEOUT_MS = 500;
export const DEFAULT_PLAN_VALIDITY_MS = 1000;
/** Four 1 MiB frames and their envelope. */
export const DEFAULT_MAX_RECEIVE_BYTES = 5 * 1024 * 1024;

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class BrainServer implements SessionHost {
  readonly metrics: BrainMetrics;
  readonly batcher: Batcher;
  readonly tasks: TaskStore;
  readonly robots: ReadonlySet<string>;
  readonly clock: Clock;
  readonly planValidityMs: number;
  readonly backend: BrainBackend;
  private readonly grpcServer: grpc.Server;
  private readonly health: HealthImplementation;
  /** Every session whose stream is open, admitted or not. */
  private readonly all = new Set<BrainSession>();
  private readonly byRobot = new Map<string, BrainSession>();
  private readonly log: Logger;
  private nextSession = 1;
  private drainingFlag = false;
  private stopping: Promise<void> | null = null;
  private metricsEndpoint: MetricsEndpoint | null = null;
  private healthEndpoint: HealthEndpoint | null = null;
  port = 0;

  private constructor(private readonly opts: BrainServerOptions) {
    this.backend = opts.backend;
    this.robots = new Set(opts.robots);
    this.clock = opts.clock ?? systemClock;
    this.planValidityMs = opts.planValidityMs ?? DEFAULT_PLAN_VALIDITY_MS;
    this.log = opts.logger ?? pino({ level: 'silent' });
    const backend = opts.backend;
    this.metrics = new BrainMetrics({
      processMetrics: opts.processMetrics ?? false,
      ...(backend.counters !== undefined ? { backendCounters: () => backend.counters?.() ?? {} } : {}),
    });
    const batching = { ...DEFAULT_BATCHING, ...opts.batching };
    this.batcher = new Batcher(opts.backend, { ...batching, timeoutMs: opts.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS }, {
      onBatch: (n) => this.metrics.batchSize.observe(n),
      onBackendError: (kind, message) => {
        this.metrics.backendErrors.inc({ kind });
        this.log.warn({ kind }, message);
      },
    });
    const keepalive = { ...DEFAULT_KEEPALIVE, ...opts.keepalive };
    this.grpcServer = new grpc.Server({
      'grpc.keepalive_time_ms': keepalive.timeMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.max_receive_message_length': opts.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    });
    this.tasks = opts.tasks ?? new MemoryTaskStore();
    this.health = new HealthImplementation({
      '': 'SERVING', [BRAIN_SERVICE]: 'SERVING', [OPERATOR_SERVICE]: 'SERVING', [TASK_STORE_SERVICE]: this.tasks.available ? 'SERVING' : 'NOT_SERVING',
    });
    this.metrics.taskStoreUp.set(this.tasks.available ? 1 : 0);
    this.tasks.listen({
      // Whoever set it (this replica or another), the robot's open session here gets it.
      onChange: (robotId, task) => this.byRobot.get(robotId)?.pushTask(task),
      onAvailability: (up) => {
        this.metrics.taskStoreUp.set(up ? 1 : 0);
        if (!this.drainingFlag) this.health.setStatus(TASK_STORE_SERVICE, up ? 'SERVING' : 'NOT_SERVING');
      },
      onRejected: (reason) => this.metrics.taskRecordsRejected.inc({ reason }),
      onRefused: (reason) => this.metrics.taskStoreRefused.inc({ reason }),
      onPending: (n) => this.metrics.taskStorePending.set(n),
    });
  }

  /** Binds and serves; rejects (SecurityError) on plaintext off loopback, or when the port is taken. */
  static async start(opts: BrainServerOptions): Promise<BrainServer> {
    const s = new BrainServer(opts);
    const creds = serverCredentials(opts.host, opts.tls);
    const defs = brainServiceDefinitions();
    s.grpcServer.addService(defs.brain, { Session: (call: SessionStream) => s.openSession(call) });
    s.grpcServer.addService(defs.operator, operatorHandlers(s));
    s.health.addToServer(s.grpcServer);
    s.port = await new Promise<number>((resolve, reject) => {
      s.grpcServer.bindAsync(hostPort(opts.host, opts.port), creds, (err, port) => (err !== null ? reject(err) : resolve(port)));
    });
    try {
      if (opts.metrics != null) s.metricsEndpoint = await startMetricsEndpoint(s.metrics.registry, opts.metrics.host, opts.metrics.port);
      if (opts.health != null) s.healthEndpoint = await startHealthEndpoint(opts.health.host, opts.health.port, 'serving');
    } catch (e) {
      s.grpcServer.forceShutdown();
      await s.metricsEndpoint?.close();
      throw e;
    }
    s.log.info({
      host: opts.host, port: s.port, tls: opts.tls !== null, backend: opts.backend.name, metricsPort: s.metricsPort, healthPort: s.healthPort,
      ...(opts.replicaId !== undefined ? { replica: opts.replicaId } : {}),
    }, 'brain listening');
    return s;
  }

  get metricsPort(): number | null {
    return this.metricsEndpoint?.port ?? null;
  }

  /** The /healthz endpoint's port; null when none is configured. */
  get healthPort(): number | null {
    return this.healthEndpoint?.port ?? null;
  }

  get draining(): boolean {
    return this.drainingFlag;
  }

  newSessionId(): string {
    const n = this.nextSession++;
    return this.opts.replicaId !== undefined ? `${this.opts.replicaId}-s${n}` : `s${n}`;
  }

  register(s: BrainSession): BrainSession | null {
    const old = this.byRobot.get(s.robotId) ?? null;
    this.byRobot.set(s.robotId, s);
    if (old !== null) this.log.info({ robot: s.robotId }, 'a new session replaces the open one');
    return old;
  }

  unregister(s: BrainSession): void {
    this.all.delete(s);
    if (this.byRobot.get(s.robotId) === s) this.byRobot.delete(s.robotId);
  }

  /** Stores the task (the store pushes it to the robot's session); rejects with TaskStoreUnavailable. */
  async setTask(robotId: string, instruction: string): Promise<Task> {
    const task = await this.tasks.set(robotId, instruction);
    this.metrics.tasksSet.inc();
    this.log.info({ robot: robotId, task: task.taskId, store: this.tasks.kind }, 'task set');
    return task;
  }

  sessions(): SessionInfo[] {
    return [...this.byRobot.values()].map((s) => s.info());
  }

  peerOf(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null }): PeerIdentity | null | 'plaintext' {
    if (this.opts.tls === null) return 'plaintext';
    return identityFromCertificate(call.getAuthContext()?.sslPeerCertificate);
  }

  private openSession(call: SessionStream): void {
    const session = new BrainSession(call, this, this.peerOf(call));
    this.all.add(session);
    if (this.drainingFlag) void session.drain();
  }

  /** Clean shutdown (idempotent): drain sessions, then close the server, metrics and backend. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.drainingFlag = true;
    for (const svc of ['', BRAIN_SERVICE, OPERATOR_SERVICE, TASK_STORE_SERVICE]) this.health.setStatus(svc, 'NOT_SERVING');
    const hc = this.healthEndpoint;
    if (hc !== null) {
      hc.state = 'draining';
      const checks = this.opts.health?.downAfterChecks ?? DEFAULT_HEALTH_DOWN_AFTER_CHECKS;
      const noticeMs = this.opts.health?.noticeTimeoutMs ?? DEFAULT_HEALTH_NOTICE_TIMEOUT_MS;
      this.log.info({ sessions: this.byRobot.size, checks, noticeMs }, 'draining: /healthz answers 503; waiting for the balancer to mark this replica down');
      let noticeTimer: NodeJS.Timeout | undefined;
      const noticed = await Promise.race([
        hc.drainingSeen(checks).then(() => true),
        new Promise<boolean>((resolve) => { noticeTimer = setTimeout(() => resolve(false), noticeMs); }),
      ]);
      clearTimeout(noticeTimer);
      if (!noticed) this.log.warn({ answers: hc.drainingAnswers, checks, noticeMs }, 'draining: the balancer did not check /healthz enough times; sending the robots away anyway');
    }
    const drainTimeoutMs = this.opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.log.info({ sessions: this.byRobot.size, drainTimeoutMs }, 'draining: sending robots to another replica');
    const sessions = Promise.all([...this.all].map((s) => s.drain()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, drainTimeoutMs); });
    await Promise.race([sessions, timeout]);
    this.batcher.abortAll();
    await Promise.race([
      new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve())),
      timeout,
    ]);
    clearTimeout(timer);
    this.grpcServer.forceShutdown();
    await this.metricsEndpoint?.close();
    await hc?.close();
    await this.backend.close();
    await this.tasks.close();
    this.log.info('brain stopped');
  }
}
