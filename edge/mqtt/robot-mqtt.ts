/**
 * A robot's MQTT session (MQTT 3.1.1, works with aedes and Mosquitto):
 * - will: retained `status` {online:false} published by the broker on an abrupt disconnect;
 * - birth: retained `status` {online:true} on every (re)connect; {online:false} on a clean stop;
 * - a persistent session (clean: false, a client id fixed by fleet and robot): the broker queues
 *   the e-stops (subscribed at QoS 1) sent while the robot is offline and delivers them on
 *   reconnect, so an e-stop for an unreachable robot is late, never lost. Resets, resumes and
 *   heartbeats are subscribed at QoS 0, which brokers do not queue for an offline session: a reset
 *   or resume pressed while the robot was unreachable must not act when it comes back (the
 *   operator was looking at a stale picture), and a burst of old heartbeats must not feed the
 *   dead-man. Every (re)connect subscribes again, which makes the broker re-deliver the retained
 *   fleet e-stop, so the latch is honoured after any restart;
 * - the remote e-stop channel's watchdog (LinkLossWatch): disconnected for `linkLoss.timeoutMs`
 *   → the supervisor stops (mqttLinkLost) and an `mqtt-link-lost` event is queued for the reconnect;
 * - state summary at the telemetry rate (QoS 0, never queued while offline: stale state is noise),
 *   and beside it the brief a fleet overview reads (QoS 0, 1 Hz and at once on a discrete change);
 * - safety events at QoS 1, each stamped here with the wall clock (`wallMs`, epoch ms, from `now`)
 *   and the monotonic clock (`monoUs`, from `clock`) when it happens; while offline they wait in a
 *   bounded outbox (event-outbox.ts: stop events kept first, drops counted and reported by an
 *   `events-dropped` event on reconnect).
 * TCP_NODELAY is set on the socket: Nagle plus delayed ACKs would add up to 40 ms to an e-stop.
 * Transport: mqtts:// (TLS, the broker checked against `tls.ca`, optionally a client certificate)
 * anywhere; plaintext mqtt:// only to a loopback broker unless `allowPlaintext` says otherwise,
 * since the password, telemetry and e-stops would otherwise cross the network readable by anyone.
 */
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isLoopbackHost } from '../../proto/security/loopback.js';
import { MqttClient, type IClientOptions } from 'mqtt';
import { BriefSchedule, briefOf, encodePayload, fleetTopics, robotTopics, type RobotStatus, type RobotTopics, type SafetyEventBody, type StateSummary, type StopCategory } from '../../proto/mqtt/index.js';
import { systemClock, type Clock } from '../clock.js';
import { CommandHandler } from './command-handler.js';
import { DeadmanWatch } from './deadman-watch.js';
import { LinkLossWatch, type LinkLossInfo } from './link-loss-watch.js';
import { EventOutbox, isStopEvent } from './event-outbox.js';
import {
  silentLogger, type DeadmanSink, type EpisodeMarkSink, type LinkLossSink, type EstopSink, type HeartbeatSink, type MqttLogger, type ResetSink, type ResumeSink, type SafetyEventSource, type SafetyTransition, type TelemetrySource, type WireStop,
} from './ports.js';
import { TelemetryPublisher } from './telemetry-publisher.js';

/** TLS to the broker (PEM). `ca` verifies the broker; `cert` and `key` are this robot's client certificate. */
export interface RobotMqttTls {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
}

export interface RobotMqttOptions {
  /** `mqtts://host:port` (default port 8883), or `mqtt://host:port` (1883) to a loopback broker. */
  url: string;
  tls?: RobotMqttTls;
  /** Allow plaintext mqtt:// to a broker that is not on loopback (a network you trust completely). */
  allowPlaintext?: boolean;
  fleet: string;
  robot: string;
  username?: string;
  password?: string;
  wire: WireStop;
  estop: EstopSink;
  reset: ResetSink;
  /** Remote resume (`cmd/resume`); absent: every resume is refused and reported. */
  resume?: ResumeSink;
  /** Operators' episode marks (`cmd/episode`) go to the flight recorder; absent: refused, "recording is off". */
  episodes?: EpisodeMarkSink;
  safety?: SafetyEventSource;
  telemetry?: { source: TelemetrySource; rateHz: number };
  /** Dead-man kept here: silence for timeoutMs → sink.deadmanExpired(). */
  deadman?: { timeoutMs: number; sink: DeadmanSink };
  /**
   * The remote e-stop channel's watchdog: disconnected (or not yet connected) for `timeoutMs` →
   * sink.mqttLinkLost(); `category` is what the sink stops with, for the event. Absent: no watch.
   */
  linkLoss?: { timeoutMs: number; category: StopCategory; sink: LinkLossSink };
  /** Dead-man kept by the supervisor: every well-formed heartbeat → operatorHeartbeat(). */
  heartbeat?: HeartbeatSink;
  operators?: readonly string[];
  resetMaxAgeMs?: number;
  software?: string;
  /** Default 500 ms. */
  reconnectPeriodMs?: number;
  /** Default 5 s: the broker publishes the will after 1.5 x this without traffic. */
  keepaliveS?: number;
  /** Safety events held while the broker is away (default 256); beyond it the oldest routine ones go. */
  outboxCapacity?: number;
  /** Monotonic time (µs) for `monoUs` and every timer here. Default: the system clock. */
  clock?: Clock;
  /** Wall clock, epoch ms, for `wallMs` and the commands' age checks. Default: Date.now. */
  now?: () => number;
  logger?: MqttLogger;
}

/** Bytes waiting on the connection past which a state summary is skipped (about 20 summaries). */
export const TELEMETRY_BACKLOG_BYTES = 16 * 1024;

export class RobotMqtt {
  readonly topics: RobotTopics;
  readonly handler: CommandHandler;
  private readonly client: MqttClient;
  private readonly logger: MqttLogger;
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly deadman: DeadmanWatch | null;
  private readonly linkWatch: LinkLossWatch | null;
  private readonly telemetry: TelemetryPublisher | null;
  private readonly subscriptions: Record<string, { qos: 0 | 1 }>;
  private eventSeq = 0;
  private stateSeq = 0;
  private briefSeq = 0;
  private skippedSummaries = 0;
  private readonly brief = new BriefSchedule();
  private stopped = false;
  private readonly outbox: EventOutbox;

  constructor(private readonly opts: RobotMqttOptions) {
    this.topics = robotTopics(opts.fleet, opts.robot);
    this.outbox = new EventOutbox(opts.outboxCapacity);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    const clock = this.clock = opts.clock ?? systemClock;
    const fleet = fleetTopics(opts.fleet);
    // QoS 1 (queued while offline) for e-stops only; QoS 0 (never queued) for everything that
    // must act only while the operator and the robot see each other.
    this.subscriptions = {
      [this.topics.estop]: { qos: 1 }, [this.topics.resets]: { qos: 0 }, [this.topics.resumes]: { qos: 0 }, [this.topics.episodes]: { qos: 0 }, [this.topics.heartbeat]: { qos: 0 },
      [fleet.estop]: { qos: 1 }, [fleet.heartbeat]: { qos: 0 },
    };
    const loss = opts.linkLoss;
    this.linkWatch = loss ? new LinkLossWatch({ clock, timeoutMs: loss.timeoutMs, onLost: (info) => this.onLinkLost(info, loss.category, loss.sink) }) : null;
    const deadman = opts.deadman;
    this.deadman = deadman ? new DeadmanWatch({ clock, timeoutMs: deadman.timeoutMs, onExpired: (info) => this.onDeadman(info, deadman.sink) }) : null;
    this.handler = new CommandHandler({
      fleet: opts.fleet, robot: opts.robot, wire: opts.wire, estop: opts.estop, reset: opts.reset,
      events: { report: (e) => this.publishEvent(e) }, deadman: this.deadman, now: this.now, logger: this.logger,
      ...(opts.heartbeat ? { heartbeat: opts.heartbeat } : {}),
      ...(opts.resume ? { resume: opts.resume } : {}),
      ...(opts.episodes ? { episodes: opts.episodes } : {}),
      ...(opts.operators ? { operators: opts.operators } : {}),
      ...(opts.resetMaxAgeMs !== undefined ? { resetMaxAgeMs: opts.resetMaxAgeMs } : {}),
    });
    const tel = opts.telemetry;
    this.telemetry = tel ? new TelemetryPublisher({ clock, rateHz: tel.rateHz, tick: () => this.publishState(tel.source) }) : null;

    const url = new URL(opts.url);
    if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new Error(`mqtt.url ${JSON.stringify(opts.url)}: must be mqtts://host:port or mqtt://host:port`);
    const secure = url.protocol === 'mqtts:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : secure ? 8883 : 1883;
    if (!secure && opts.allowPlaintext !== true && !isLoopbackHost(host)) {
      throw new Error(`mqtt.url ${JSON.stringify(opts.url)} is plaintext to a broker that is not on loopback: use mqtts:// (with mqtt.tls), or set mqtt.allowPlaintext to true on a network you trust`);
    }
    if (!secure && opts.tls) throw new Error(`mqtt.url ${JSON.stringify(opts.url)} is plaintext but mqtt.tls is set: use mqtts://`);
    const clientOpts: IClientOptions = {
      protocolVersion: 4,
      clientId: `spinal-${opts.fleet}-${opts.robot}`,
      clean: false,
      // Subscribed again on every connect (onConnect), so mqtt.js need not do it too.
      resubscribe: false,
      keepalive: opts.keepaliveS ?? 5,
      reconnectPeriod: opts.reconnectPeriodMs ?? 500,
      connectTimeout: 5000,
      queueQoSZero: false,
      manualConnect: true,
      will: { topic: this.topics.status, payload: encodePayload(this.status(false, 'connection lost')), qos: 1, retain: true },
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    };
    const tls = opts.tls ?? {};
    this.client = new MqttClient(() => {
      if (!secure) return createConnection({ host, port, noDelay: true });
      const socket = tlsConnect({
        host, port, ...(isIpLiteral(host) ? {} : { servername: host }),
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}), ...(tls.cert !== undefined ? { cert: tls.cert } : {}), ...(tls.key !== undefined ? { key: tls.key } : {}),
      });
      socket.setNoDelay(true);
      return socket;
    }, clientOpts);
    // The fast path: the 'message' callback runs in the same turn as the packet parse.
    this.client.on('message', (topic, payload, packet) => this.handler.handle(topic, payload, packet.retain));
    this.client.on('connect', () => this.onConnect());
    // The channel is up at the CONNACK. mqtt.js emits 'connect' only after it has re-sent its
    // stored QoS 1 packets, which can take a while; a loss in that window must count afresh.
    this.client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack' && (packet.returnCode ?? packet.reasonCode ?? 0) === 0) this.linkWatch?.connected();
    });
    this.client.on('close', () => {
      this.linkWatch?.disconnected();
      this.logger.debug({ url: opts.url }, 'MQTT connection closed');
    });
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
    this.linkWatch?.start();
    this.telemetry?.start();
    this.client.connect();
  }

  /** Publishes {online:false} retained, then disconnects cleanly (the will is discarded). */
  async stop(reason = 'shutdown'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.safety?.off('transition', this.onTransition);
    this.linkWatch?.stop(); // a clean shutdown is not a loss
    this.telemetry?.stop();
    this.deadman?.stop();
    if (this.client.connected) {
      await this.client.publishAsync(this.topics.status, encodePayload(this.status(false, reason)), { qos: 1, retain: true }).catch(() => undefined);
    }
    await this.client.endAsync(!this.client.connected);
  }

  /** Publishes a safety event at QoS 1, stamped with version, robot, sequence number and both clocks. */
  publishEvent(e: SafetyEventBody): void {
    const msg = { v: 1, robot: this.opts.robot, seq: this.eventSeq++, wallMs: Math.round(this.now()), monoUs: Math.max(0, Math.round(this.clock.nowUs())), ...e };
    this.sendEvent(e.kind, encodePayload(msg), isStopEvent(e));
  }

  /** State summaries (and their briefs) not published because the connection was backed up, since start. */
  get telemetrySkipped(): number {
    return this.skippedSummaries;
  }

  /** Safety events dropped from the outbox while offline, since start. */
  get eventsDropped(): number {
    return this.outbox.dropped;
  }

  private sendEvent(kind: string, payload: Buffer, stop: boolean): void {
    if (!this.client.connected) {
      this.outbox.hold({ kind, payload, stop });
      return;
    }
    this.client.publish(this.topics.event, payload, { qos: 1 }, (err) => {
      if (err) this.logger.warn({ err: err.message, kind }, 'safety event not published');
    });
  }

  /** On (re)connect: what the outbox dropped (one event), then what it held, in order. */
  private flushOutbox(): void {
    const { events, drops } = this.outbox.drain();
    if (drops.dropped > 0) {
      this.logger.warn(drops, 'safety events dropped while the broker was away (outbox full)');
      this.publishEvent({ kind: 'events-dropped', ...drops });
    }
    for (const e of events) this.sendEvent(e.kind, e.payload, e.stop);
  }

  private status(online: boolean, reason?: string): RobotStatus {
    return {
      v: 1, robot: this.opts.robot, online, at: this.now(),
      ...(reason !== undefined ? { reason } : {}),
      ...(this.opts.software !== undefined ? { software: this.opts.software } : {}),
    };
  }

  private onConnect(): void {
    this.linkWatch?.connected();
    this.logger.info({ url: this.opts.url }, 'MQTT connected');
    this.client.publish(this.topics.status, encodePayload(this.status(true)), { qos: 1, retain: true });
    this.flushOutbox();
    this.client.subscribe(this.subscriptions, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length > 0) {
        this.logger.error({ err: err?.message, refused }, 'MQTT subscription refused: remote e-stops will not arrive (check the ACL)');
      }
    });
  }

  private publishState(source: TelemetrySource): void {
    if (!this.client.connected) return;
    // A summary is a latest value: when the ones before it have not left yet (a broker that reads
    // this connection less often under fleet load, a slow link), skip this one instead of queueing
    // it in memory behind them. Events (QoS 1) are never skipped.
    const waiting = (this.client.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
    if (waiting > TELEMETRY_BACKLOG_BYTES) {
      if (this.skippedSummaries++ % 100 === 0) this.logger.warn({ waitingBytes: waiting, skipped: this.skippedSummaries }, 'MQTT connection backed up: skipping state summaries until it drains');
      return;
    }
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
    this.publishEvent({ kind: 'transition', from: t.from, to: t.to, cause: t.cause, source: typeof t.source === 'string' ? t.source : `${t.source.kind}:${t.source.id}`, ...(t.detail !== undefined ? { detail: t.detail } : {}) });
  };

  /** Fail safe first: the supervisor stops, then the event is queued (sent on the reconnect). */
  private onLinkLost(info: LinkLossInfo, category: StopCategory, sink: LinkLossSink): void {
    const downForMs = Math.floor(info.downForMs);
    this.logger.error({ ...info, category, url: this.opts.url }, 'MQTT broker unreachable beyond the timeout: remote e-stops cannot arrive; stopping');
    try {
      sink.mqttLinkLost(`MQTT broker connection down for ${downForMs} ms (limit ${info.timeoutMs} ms): remote e-stops cannot arrive`);
    } finally {
      this.publishEvent({ kind: 'mqtt-link-lost', timeoutMs: info.timeoutMs, downForMs, category });
    }
  }

  private onDeadman(info: { timeoutMs: number; lastHeartbeatAgeMs: number | null }, sink: DeadmanSink): void {
    this.logger.warn(info, 'operator dead-man heartbeat expired');
    try {
      sink.deadmanExpired(info);
    } finally {
      this.publishEvent({ kind: 'deadman-expired', ...info });
    }
  }
}

/** SNI carries host names only (RFC 6066), never an address. */
function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
