/**
 * A robot's MQTT session (MQTT 3.1.1, works with aedes and Mosquitto):
 * - will: retained `status` {online:false} published by the broker on an abrupt disconnect;
 * - birth: retained `status` {online:true} on every (re)connect; {online:false} on a clean stop;
 * - subscribes to its own commands and the fleet's at QoS 1 (clean session, so every reconnect
 *   re-delivers the retained fleet e-stop and the latch is honoured after a broker or robot restart);
 * - state summary at the telemetry rate (QoS 0, never queued while offline: stale state is noise),
 *   and beside it the brief a fleet overview reads (QoS 0, 1 Hz and at once on a discrete change);
 * - safety events at QoS 1 (queued by the client while offline).
 * TCP_NODELAY is set on the socket: Nagle plus delayed ACKs would add up to 40 ms to an e-stop.
 */
import { createConnection } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import { BriefSchedule, briefOf, encodePayload, fleetTopics, robotTopics, type RobotStatus, type RobotTopics, type SafetyEventBody, type StateSummary } from '../../proto/mqtt/index.js';
import { systemClock, type Clock } from '../clock.js';
import { CommandHandler } from './command-handler.js';
import { DeadmanWatch } from './deadman-watch.js';
import {
  silentLogger, type DeadmanSink, type EstopSink, type HeartbeatSink, type MqttLogger, type ResetSink, type ResumeSink, type SafetyEventSource, type SafetyTransition, type TelemetrySource, type WireStop,
} from './ports.js';
import { TelemetryPublisher } from './telemetry-publisher.js';

export interface RobotMqttOptions {
  /** `mqtt://host:port` */
  url: string;
  fleet: string;
  robot: string;
  username?: string;
  password?: string;
  wire: WireStop;
  estop: EstopSink;
  reset: ResetSink;
  /** Remote resume (`cmd/resume`); absent: every resume is refused and reported. */
  resume?: ResumeSink;
  safety?: SafetyEventSource;
  telemetry?: { source: TelemetrySource; rateHz: number };
  /** Dead-man kept here: silence for timeoutMs → sink.deadmanExpired(). */
  deadman?: { timeoutMs: number; sink: DeadmanSink };
  /** Dead-man kept by the supervisor: every well-formed heartbeat → operatorHeartbeat(). */
  heartbeat?: HeartbeatSink;
  operators?: readonly string[];
  resetMaxAgeMs?: number;
  software?: string;
  /** Default 500 ms. */
  reconnectPeriodMs?: number;
  /** Default 5 s: the broker publishes the will after 1.5 x this without traffic. */
  keepaliveS?: number;
  clock?: Clock;
  now?: () => number;
  logger?: MqttLogger;
}

export class RobotMqtt {
  readonly topics: RobotTopics;
  readonly handler: CommandHandler;
  private readonly client: MqttClient;
  private readonly logger: MqttLogger;
  private readonly now: () => number;
  private readonly deadman: DeadmanWatch | null;
  private readonly telemetry: TelemetryPublisher | null;
  private readonly subscriptions: string[];
  private eventSeq = 0;
  private stateSeq = 0;
  private briefSeq = 0;
  private readonly brief = new BriefSchedule();
  private stopped = false;

  constructor(private readonly opts: RobotMqttOptions) {
    this.topics = robotTopics(opts.fleet, opts.robot);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    const clock = opts.clock ?? systemClock;
    this.subscriptions = [this.topics.commands, fleetTopics(opts.fleet).commands];
    const deadman = opts.deadman;
    this.deadman = deadman ? new DeadmanWatch({ clock, timeoutMs: deadman.timeoutMs, onExpired: (info) => this.onDeadman(info, deadman.sink) }) : null;
    this.handler = new CommandHandler({
      fleet: opts.fleet, robot: opts.robot, wire: opts.wire, estop: opts.estop, reset: opts.reset,
      events: { report: (e) => this.publishEvent(e) }, deadman: this.deadman, now: this.now, logger: this.logger,
      ...(opts.heartbeat ? { heartbeat: opts.heartbeat } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
      ...(opts.operators ? { operators: opts.operators } : {}),
      ...(opts.resetMaxAgeMs !== undefined ? { resetMaxAgeMs: opts.resetMaxAgeMs } : {}),
    });
    const tel = opts.telemetry;
    this.telemetry = tel ? new TelemetryPublisher({ clock, rateHz: tel.rateHz, tick: () => this.publishState(tel.source) }) : null;

    const url = new URL(opts.url);
    if (url.protocol !== 'mqtt:') throw new Error(`mqtt.url ${JSON.stringify(opts.url)}: only mqtt:// is supported here`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 1883;
    const clientOpts: IClientOptions = {
      protocolVersion: 4,
      clientId: `spinal-${opts.fleet}-${opts.robot}`,
      clean: true,
      keepalive: opts.keepaliveS ?? 5,
      reconnectPeriod: opts.reconnectPeriodMs ?? 500,
      connectTimeout: 5000,
      queueQoSZero: false,
      manualConnect: true,
      will: { topic: this.topics.status, payload: encodePayload(this.status(false, 'connection lost')), qos: 1, retain: true },
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    };
    this.client = new MqttClient(() => createConnection({ host, port, noDelay: true }), clientOpts);
    // The fast path: the 'message' callback runs in the same turn as the packet parse.
    this.client.on('message', (topic, payload, packet) => this.handler.handle(topic, payload, packet.retain));
    this.client.on('connect', () => this.onConnect());
    this.client.on('close', () => this.logger.debug({ url: opts.url }, 'MQTT connection closed'));
    this.client.on('error', (err) => this.logger.warn({ url: opts.url, err: err.message }, 'MQTT error'));
    this.client.on('offline', () => this.logger.warn({ url: opts.url }, 'MQTT broker unreachable; reconnecting'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get fleetLatch(): boolean {
    return this.handler.fleetLatch;
  }

  start(): void {
    this.opts.safety?.on('transition', this.onTransition);
    this.deadman?.start();
    this.telemetry?.start();
    this.client.connect();
  }

  /** Publishes {online:false} retained, then disconnects cleanly (the will is discarded). */
  async stop(reason = 'shutdown'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.safety?.off('transition', this.onTransition);
    this.telemetry?.stop();
    this.deadman?.stop();
    if (this.client.connected) {
      await this.client.publishAsync(this.topics.status, encodePayload(this.status(false, reason)), { qos: 1, retain: true }).catch(() => undefined);
    }
    await this.client.endAsync(!this.client.connected);
  }

  /** Publishes a safety event at QoS 1, stamped with version, robot and sequence number. */
  publishEvent(e: SafetyEventBody): void {
    const msg = { v: 1, robot: this.opts.robot, seq: this.eventSeq++, ...e };
    this.client.publish(this.topics.event, encodePayload(msg), { qos: 1 }, (err) => {
      if (err) this.logger.warn({ err: err.message, kind: e.kind }, 'safety event not published');
    });
  }

  private status(online: boolean, reason?: string): RobotStatus {
    return {
      v: 1, robot: this.opts.robot, online, at: this.now(),
      ...(reason !== undefined ? { reason } : {}),
      ...(this.opts.software !== undefined ? { software: this.opts.software } : {}),
    };
  }

  private onConnect(): void {
    this.logger.info({ url: this.opts.url }, 'MQTT connected');
    this.client.publish(this.topics.status, encodePayload(this.status(true)), { qos: 1, retain: true });
    this.client.subscribe(this.subscriptions, { qos: 1 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0) {
        this.logger.error({ err: err?.message, refused }, 'MQTT subscription refused: remote e-stops will not arrive (check the ACL)');
      }
    });
  }

  private publishState(source: TelemetrySource): void {
    if (!this.client.connected) return;
    let body;
    try {
      body = source.summary();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'telemetry summary failed');
      return;
    }
    const msg: StateSummary = { v: 1, robot: this.opts.robot, at: this.now(), seq: this.stateSeq++, ...body, fleetLatch: this.handler.fleetLatch };
    this.client.publish(this.topics.state, encodePayload(msg), { qos: 0 });
    if (this.brief.due(msg, msg.at)) this.client.publish(this.topics.brief, encodePayload(briefOf(msg, this.briefSeq++)), { qos: 0 });
  }

  private readonly onTransition = (t: SafetyTransition): void => {
    const at = Number.isFinite(t.at) && t.at > 1e12 ? Math.round(t.at) : this.now();
    this.publishEvent({ kind: 'transition', at, from: t.from, to: t.to, cause: t.cause, source: typeof t.source === 'string' ? t.source : `${t.source.kind}:${t.source.id}`, ...(t.detail !== undefined ? { detail: t.detail } : {}) });
  };

  private onDeadman(info: { timeoutMs: number; lastHeartbeatAgeMs: number | null }, sink: DeadmanSink): void {
    this.logger.warn(info, 'operator dead-man heartbeat expired');
    try {
      sink.deadmanExpired(info);
    } finally {
      this.publishEvent({ kind: 'deadman-expired', at: this.now(), ...info });
    }
  }
}
