/**
 * The task store on the fleet's MQTT broker: one retained record per robot on
 * `spinal/v1/<fleet>/<robot>/task` (QoS 1, proto/mqtt/task-record.ts), written and read by every
 * brain replica with a `brain` account (task topics only). Each replica subscribes to all task
 * topics and keeps a mirror; sessions read the mirror, never the network.
 *
 * - set: refused at once (TaskStoreUnavailable) while the broker is not connected; otherwise
 *   published retained and resolved on the broker's PUBACK, when the record also enters the
 *   mirror. A write whose PUBACK does not come within `ackTimeoutMs` is answered
 *   TaskStoreUnavailable but is NOT withdrawn: the MQTT client keeps it and sends it again when
 *   the broker returns; it then counts as of its stamp (a task set later, anywhere, still wins).
 *   Writes still unacknowledged when the store closes are logged as lost, by robot and task.
 * - Ordering: TaskRecord's rule. A record that orders before the mirror's, and a payload that is
 *   not a valid record (logged, counted, ignored), make this replica write its newer record again,
 *   so the broker's retained value converges on the greatest record.
 * - Reconnect: after the subscription is back, every mirror record is written again: a broker
 *   that lost its retained messages (the embedded broker keeps them in memory only) gets them back
 *   from any replica that still holds them; one that kept them receives duplicates it ignores.
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  compareTaskRecords, decodeTask, fleetTopics, nextTaskStamp, parseTopic, robotTopics, type TaskRecord,
} from '../../proto/mqtt/index.js';
import type { Task } from '../backends/backend.js';
import { NO_TASK, TaskStoreUnavailable, type TaskStore, type TaskStoreEvents } from './task-store.js';

export interface MqttTaskStoreOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the fleet's broker. */
  url: string;
  fleet: string;
  username: string;
  password: string;
  /** PEM CA of the broker's certificate (mqtts://, wss://). */
  ca?: Buffer;
  /** This replica's name in the records it writes (tie-break of equal stamps); default: random. */
  writer?: string;
  /** A write not acknowledged within this is answered unavailable (it stays queued). Default 5000. */
  ackTimeoutMs?: number;
  /** start() waits at most this for the first connection (then serves, unavailable). Default 3000. */
  startWaitMs?: number;
  reconnectPeriodMs?: number;
  logger: Logger;
  /** Wall clock, epoch ms (record stamps). */
  now?: () => number;
}

interface Pending {
  record: TaskRecord;
  /** Set once the caller was answered (acknowledged, refused or timed out). */
  answered: boolean;
}

export class MqttTaskStore implements TaskStore {
  readonly kind = 'mqtt';
  private readonly mirror = new Map<string, TaskRecord>();
  private readonly pending = new Set<Pending>();
  private events: Partial<TaskStoreEvents> = {};
  private up = false;
  private connectedOnce = false;
  private lastProblem = 'not connected yet';
  private next = 1;
  private closed = false;
  private readonly prefix = `t${Date.now().toString(36)}`;
  readonly writer: string;
  private readonly topics: ReturnType<typeof fleetTopics>;
  private readonly log: Logger;
  private readonly now: () => number;
  private markFirstUp: () => void = () => undefined;
  private readonly firstUp = new Promise<void>((resolve) => { this.markFirstUp = resolve; });

  private constructor(private readonly opts: MqttTaskStoreOptions, private readonly client: MqttClient) {
    this.writer = opts.writer ?? `brain-${randomBytes(4).toString('hex')}`;
    this.topics = fleetTopics(opts.fleet);
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
  }

  /** Connects (waiting at most `startWaitMs`); never rejects for an unreachable broker: it keeps trying. */
  static async start(opts: MqttTaskStoreOptions): Promise<MqttTaskStore> {
    const clientOpts: IClientOptions = {
      protocolVersion: 4, clean: true, username: opts.username, password: opts.password,
      clientId: `${opts.username}-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: opts.reconnectPeriodMs ?? 1000, connectTimeout: 5000, resubscribe: false,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    };
    const store = new MqttTaskStore(opts, connect(opts.url, clientOpts));
    store.wire();
    const waitMs = opts.startWaitMs ?? 3000;
    if (waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([store.firstUp, new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); })]);
      clearTimeout(timer);
    }
    if (!store.up) store.log.warn({ broker: opts.url, problem: store.lastProblem }, 'task store: broker not reachable yet; SetTask answers UNAVAILABLE until it is');
    return store;
  }

  get available(): boolean {
    return this.up;
  }

  get url(): string {
    return this.opts.url;
  }

  /** Records this replica holds (tests, diagnostics). */
  records(): TaskRecord[] {
    return [...this.mirror.values()];
  }

  get(robotId: string): Task {
    const r = this.mirror.get(robotId);
    return r === undefined ? NO_TASK : { taskId: r.taskId, instruction: r.instruction };
  }

  listen(events: Partial<TaskStoreEvents>): void {
    this.events = events;
  }

  set(robotId: string, instruction: string): Promise<Task> {
    if (!this.up || this.closed) {
      this.events.onRefused?.('disconnected');
      return Promise.reject(new TaskStoreUnavailable(`task store: the MQTT broker ${this.opts.url} is not connected (${this.lastProblem}); the task was not stored`));
    }
    const record: TaskRecord = {
      v: 1, kind: 'task', robot: robotId, taskId: `${this.prefix}-${this.next++}`, instruction,
      at: nextTaskStamp(this.now(), this.mirror.get(robotId)), writer: this.writer,
    };
    const p: Pending = { record, answered: false };
    this.pending.add(p);
    this.events.onPending?.(this.pending.size);
    const ackTimeoutMs = this.opts.ackTimeoutMs ?? 5000;
    return new Promise<Task>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (p.answered) return;
        p.answered = true;
        this.events.onRefused?.('ack-timeout');
        this.log.warn({ robot: robotId, task: record.taskId }, 'task store: write not acknowledged in time; kept queued for the broker');
        reject(new TaskStoreUnavailable(`task store: the MQTT broker ${this.opts.url} did not acknowledge the task within ${ackTimeoutMs} ms; it stays queued and is written when the broker returns, unless a newer task is set first`));
      }, ackTimeoutMs);
      this.write(record, (err) => {
        clearTimeout(timer);
        this.pending.delete(p);
        this.events.onPending?.(this.pending.size);
        if (err !== undefined) {
          if (!p.answered) this.events.onRefused?.('error');
          else this.log.error({ robot: robotId, task: record.taskId, err: err.message }, 'task store: a queued task write failed');
          if (!p.answered) reject(new TaskStoreUnavailable(`task store: the MQTT broker ${this.opts.url} refused the task: ${err.message}`));
          p.answered = true;
          return;
        }
        if (p.answered) this.log.info({ robot: robotId, task: record.taskId }, 'task store: a queued task write was acknowledged late');
        this.apply(record);
        if (!p.answered) resolve({ taskId: record.taskId, instruction });
        p.answered = true;
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending) {
      this.log.error({ robot: p.record.robot, task: p.record.taskId }, 'task store: closing with a task write the broker never acknowledged; it is lost (the operator was answered UNAVAILABLE)');
    }
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
    this.setUp(false, 'closed');
  }

  private write(record: TaskRecord, done?: (err: Error | undefined) => void): void {
    this.client.publish(robotTopics(this.opts.fleet, record.robot).task, JSON.stringify(record), { qos: 1, retain: true }, (err) => done?.(err ?? undefined));
  }

  private wire(): void {
    const c = this.client;
    c.on('connect', () => {
      c.subscribe(this.topics.tasks, { qos: 1 }, (err, granted) => {
        const code = granted?.[0]?.qos;
        if (err || code === undefined || code === 128) {
          this.lastProblem = `subscription to ${this.topics.tasks} refused${err ? `: ${err.message}` : ''} (does the account ${JSON.stringify(this.opts.username)} have the brain role?)`;
          this.log.error({ broker: this.opts.url }, `task store: ${this.lastProblem}`);
          return;
        }
        const again = this.connectedOnce;
        this.connectedOnce = true;
        this.setUp(true, 'connected');
        if (again) for (const r of this.mirror.values()) this.write(r);
      });
    });
    c.on('close', () => {
      if (this.up) this.lastProblem = `connection to ${this.opts.url} lost`;
      this.setUp(false, this.lastProblem);
    });
    c.on('error', (e) => {
      this.lastProblem = e.message;
    });
    c.on('message', (topic, payload) => this.receive(topic, payload));
  }

  private setUp(up: boolean, why: string): void {
    if (this.up === up) return;
    this.up = up;
    if (up) this.markFirstUp();
    if (up) this.log.info({ broker: this.opts.url, records: this.mirror.size }, 'task store connected');
    else if (!this.closed) this.log.warn({ broker: this.opts.url, why }, 'task store unavailable');
    this.events.onAvailability?.(up, why);
  }

  private receive(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t?.kind !== 'channel' || t.channel !== 'task' || t.fleet !== this.opts.fleet) return;
    const held = this.mirror.get(t.robot);
    const decoded = decodeTask(payload, t.robot);
    if (!decoded.ok) {
      this.events.onRejected?.('invalid');
      this.log.warn({ topic, problem: decoded.problem }, `task store: refused the record on ${topic}: ${decoded.problem}; ignored${held ? ', writing the held task again' : ''}`);
      if (held) this.write(held);
      return;
    }
    const order = held === undefined ? 1 : compareTaskRecords(decoded.value, held);
    if (order > 0) {
      this.apply(decoded.value);
    } else if (order < 0 && held !== undefined) {
      this.events.onRejected?.('stale');
      this.log.info({ topic, stale: decoded.value.taskId, held: held.taskId }, 'task store: a stale task record arrived after a newer one; ignored, writing the newer again');
      this.write(held);
    }
  }

  /** Takes `r` into the mirror when it orders after what is held; tells the listener. */
  private apply(r: TaskRecord): void {
    const held = this.mirror.get(r.robot);
    if (held !== undefined && compareTaskRecords(r, held) <= 0) return;
    this.mirror.set(r.robot, r);
    this.events.onChange?.(r.robot, { taskId: r.taskId, instruction: r.instruction });
  }
}
