/**
 * MQTT end-to-end fixtures: a broker (embedded aedes or a Mosquitto child process) with the
 * generated accounts and ACL, a TCP proxy to cut connections abruptly, user clients, and a robot
 * (virtual firmware + SerialLink + RobotMqtt) wired to a recording supervisor, or to a real one
 * (startSupervisedRobot).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { topicMatchesFilter } from '../../proto/mqtt/index.js';
import { newMessage, MsgType, CommandMode } from '../../proto/wire/index.js';
import { EmbeddedBroker, MosquittoProcess, RobotMqtt, type FleetAccounts, type ResetOutcome, type SafetyTransition } from '../../edge/mqtt/index.js';
import type { StopCategory } from '../../proto/mqtt/index.js';
import { systemClock } from '../../edge/clock.js';
import { SafetySupervisor } from '../../edge/safety/safety-supervisor.js';
import { bindSupervisor } from '../../edge/safety/supervisor-bindings.js';
import type { EstopEvent } from '../../firmware-shim/virtual/virtual-robot.js';
import { startRig, waitFor, type Rig } from './link-harness.js';
import type { TestCerts } from './tls-fixture.js';

export const FLEET = 'f';
export const ACCOUNTS: FleetAccounts = {
  fleet: FLEET,
  robots: [{ id: 'r1', password: 'r1-secret' }, { id: 'r2', password: 'r2-secret' }],
  operators: [{ name: 'alice', password: 'alice-secret' }, { name: 'bob', password: 'bob-secret' }],
  viewers: [{ name: 'vic', password: 'vic-secret' }],
  brains: [{ name: 'brain', password: 'brain-secret' }],
};
export const PASSWORDS: Record<string, string> = { r1: 'r1-secret', r2: 'r2-secret', alice: 'alice-secret', bob: 'bob-secret', vic: 'vic-secret', brain: 'brain-secret' };

export type BrokerKind = 'embedded' | 'mosquitto';
export interface TestBroker {
  kind: BrokerKind;
  url: string;
  port: number;
  /** `ws://127.0.0.1:port/mqtt` when started with `websockets`, else null. */
  wsUrl: string | null;
  /**
   * Stops the broker (Mosquitto saves retained messages and sessions first; the embedded broker
   * loses both, as it would when its process restarts) and starts it again on the same port.
   * `whileDown` runs after the stop, before the wait of `downMs`.
   */
  restart(downMs: number, whileDown?: () => void): Promise<void>;
  stop(): Promise<void>;
}

export interface TestBrokerOptions {
  /** Also listen for MQTT over WebSocket (same accounts and ACL), on a free port. */
  websockets?: boolean;
  /** Both listeners over TLS with these certificates (mqtts://, wss://). */
  tls?: TestCerts;
  /** With `tls`: robots log in by client certificate (require_certificate, use_identity_as_username). */
  clientCerts?: boolean;
}

export async function startBroker(kind: BrokerKind, opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const certs = opts.tls;
  if (kind === 'embedded') {
    const brokerOptions = {
      ...ACCOUNTS, ...(opts.websockets ? { ws: { port: 0 } } : {}),
      ...(certs ? { tls: { ...certs.server, ca: certs.ca, requireCertificate: opts.clientCerts === true, useIdentityAsUsername: opts.clientCerts === true } } : {}),
    };
    let b = await EmbeddedBroker.start(brokerOptions);
    const { port, wsPort } = b;
    return {
      kind, url: b.url, port, wsUrl: b.wsUrl,
      async restart(downMs, whileDown) {
        await b.close();
        whileDown?.();
        await new Promise((r) => setTimeout(r, downMs));
        b = await EmbeddedBroker.start({ ...brokerOptions, port, ...(wsPort !== null ? { ws: { port: wsPort } } : {}) });
      },
      stop: () => b.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'spinal-mosquitto-'));
  const tls = certs ? { tls: { certfile: certs.files.cert, keyfile: certs.files.key, cafile: certs.files.ca, requireCertificate: opts.clientCerts === true, useIdentityAsUsername: opts.clientCerts === true } } : {};
  let proc = await MosquittoProcess.start({ ...ACCOUNTS, ...tls, dir, persistence: true, ...(opts.websockets ? { websockets: {} } : {}) });
  const { port, wsPort } = proc;
  return {
    kind, url: proc.url, port, wsUrl: proc.wsUrl,
    async restart(downMs, whileDown) {
      await proc.stop();
      whileDown?.();
      await new Promise((r) => setTimeout(r, downMs));
      proc = await MosquittoProcess.start({ ...ACCOUNTS, ...tls, dir, port, persistence: true, ...(wsPort !== null ? { websockets: { port: wsPort } } : {}) });
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay in front of the broker: `cut()` kills every relayed connection without a DISCONNECT;
 * `refuse(true)` also turns every new connection away (a network outage) until `refuse(false)`.
 */
export async function startProxy(targetPort: number): Promise<{ url: string; cut(): void; refuse(on: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer({ noDelay: true }, (down) => {
    if (refusing) { down.on('error', () => undefined); down.resetAndDestroy(); return; }
    const up = tcpConnect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    for (const s of [down, up]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); }
    down.pipe(up); up.pipe(down);
    down.on('close', () => up.destroy()); up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut: () => { for (const s of sockets) s.resetAndDestroy(); },
    refuse: (on) => { refusing = on; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/**
 * A user's client (operator, viewer, or a robot's credentials), connected, TCP_NODELAY; over TLS
 * for an mqtts:// URL, checking the broker against `tls.ca` (and presenting `tls.cert` when given).
 */
export async function connectUser(url: string, username: string, password = PASSWORDS[username] ?? '', tls?: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<MqttClient> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const client = new MqttClient(() => {
    if (u.protocol !== 'mqtts:') return createConnection({ host, port: Number(u.port), noDelay: true });
    const s = tlsConnect({ host, port: Number(u.port), ...tls });
    s.setNoDelay(true);
    return s;
  }, {
    protocolVersion: 4, username, ...(password !== '' ? { password } : {}), reconnectPeriod: 0, clientId: `${username}-${Math.random().toString(16).slice(2, 8)}`,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`${username} could not connect to ${url}`)));
  });
  client.removeAllListeners('close');
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  return client;
}

export class RecordingSupervisor extends EventEmitter<{ transition: [SafetyTransition] }> {
  readonly stops: { scope: string; category: number; malformed: boolean }[] = [];
  readonly resets: { id: string; role: string }[] = [];
  readonly resumes: { id: string; role: string }[] = [];
  readonly deadmans: unknown[] = [];
  resetOutcome: ResetOutcome = { accepted: true };
  remoteEstop(i: { scope: string; category: number; malformed: boolean }): void { this.stops.push(i); }
  reset(i: { id: string; role: string }): ResetOutcome { this.resets.push(i); return this.resetOutcome; }
  resume(i: { id: string; role: string }): boolean { this.resumes.push(i); return true; }
  deadmanExpired(i: unknown): void { this.deadmans.push(i); }
}

export interface MqttRobot {
  rig: Rig;
  mqtt: RobotMqtt;
  supervisor: RecordingSupervisor;
  /** Sends POSITION commands at 100 Hz so the plant is moving under host control. */
  drive(): void;
  dispose(): Promise<void>;
}

export async function startMqttRobot(url: string, opts: { robot?: string; deadmanTimeoutMs?: number; telemetryHz?: number; tls?: { ca: Buffer; cert?: Buffer; key?: Buffer }; password?: string | null } = {}): Promise<MqttRobot> {
  const robot = opts.robot ?? 'r1';
  const rig = await startRig({ profile: 'arm6-gripper' });
  await waitFor('serial link READY', () => rig.link.state === 'READY', 10_000);
  const supervisor = new RecordingSupervisor();
  const mqtt = new RobotMqtt({
    url, fleet: FLEET, robot, username: robot, software: '0.1.0',
    ...(opts.password === null ? {} : { password: opts.password ?? PASSWORDS[robot] ?? '' }),
    ...(opts.tls ? { tls: opts.tls } : {}),
    wire: rig.link, estop: supervisor, reset: supervisor, resume: supervisor, safety: supervisor, keepaliveS: 1, reconnectPeriodMs: 100,
    telemetry: {
      rateHz: opts.telemetryHz ?? 20,
      source: { summary: () => ({ safety: { state: rig.robot.estopLatched ? 'ESTOP' : 'ACTIVE', latched: rig.robot.estopLatched }, sent: null, link: { state: rig.link.state } }) },
    },
    ...(opts.deadmanTimeoutMs !== undefined ? { deadman: { timeoutMs: opts.deadmanTimeoutMs, sink: supervisor } } : {}),
  });
  mqtt.start();
  let driver: NodeJS.Timeout | null = null;
  const cmd = newMessage(MsgType.COMMAND);
  const n = rig.link.profile.joints.length;
  cmd.jointCount = n; cmd.mode = CommandMode.VELOCITY;
  cmd.position = new Int32Array(n); cmd.velocity = new Float32Array(n).fill(200); cmd.feedforward = new Float32Array(n);
  return {
    rig, mqtt, supervisor,
    drive() { driver ??= setInterval(() => rig.link.sendCommand(cmd), 10); },
    async dispose() {
      if (driver) clearInterval(driver);
      await mqtt.stop();
      await rig.dispose();
    },
  };
}

/** Collects messages of `filter` as a user sees them. */
export async function watch(client: MqttClient, filter: string): Promise<{ topic: string; payload: Buffer; retain: boolean }[]> {
  const seen: { topic: string; payload: Buffer; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => {
    if (topicMatchesFilter(topic, filter)) seen.push({ topic, payload, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

/** Closes a user's client without waiting (a broker may already have closed a denied client). */
export function dropUser(client: MqttClient): void {
  client.end(true);
}

export interface SupervisedRobot {
  rig: Rig;
  mqtt: RobotMqtt;
  supervisor: SafetySupervisor;
  /** ESTOP frames the virtual firmware received, with the host time (ms, performance.now) of each. */
  estops: (EstopEvent & { atMs: number })[];
  /** Link READY → IDLE, a plan valid for a minute, an operator resume → ACTIVE; then VELOCITY commands at 100 Hz while motion is allowed. */
  activate(): void;
  dispose(): Promise<void>;
}

/**
 * A robot as the daemon composes it for safety: virtual firmware + SerialLink + a real
 * SafetySupervisor (system clock) + RobotMqtt with the remote e-stop channel's watchdog.
 */
export async function startSupervisedRobot(url: string, opts: { robot?: string; linkLossTimeoutMs?: number; category?: StopCategory } = {}): Promise<SupervisedRobot> {
  const robot = opts.robot ?? 'r1';
  // A 1 s MCU watchdog (the profile's is 100 ms): these robots test the MQTT side, and on a shared
  // CI machine a stall of the test process must not trip the firmware's own stop first.
  const rig = await startRig({ profile: 'arm6-gripper' }, { watchdogMs: 1000 });
  await waitFor('serial link READY', () => rig.link.state === 'READY', 10_000);
  const supervisor = new SafetySupervisor(rig.link, systemClock, { categories: { mqttLink: opts.category ?? 2 } });
  const unbind = bindSupervisor(supervisor, rig.link, null);
  const estops: (EstopEvent & { atMs: number })[] = [];
  rig.robot.on('estop', (e) => estops.push({ ...e, atMs: performance.now() }));
  const mqtt = new RobotMqtt({
    url, fleet: FLEET, robot, username: robot, password: PASSWORDS[robot] ?? '', software: '0.1.0',
    wire: rig.link, estop: supervisor, reset: supervisor, resume: supervisor, safety: supervisor, keepaliveS: 1, reconnectPeriodMs: 100,
    linkLoss: { timeoutMs: opts.linkLossTimeoutMs ?? 500, category: opts.category ?? 2, sink: supervisor },
  });
  mqtt.start();
  const cmd = newMessage(MsgType.COMMAND);
  const n = rig.link.profile.joints.length;
  cmd.jointCount = n; cmd.mode = CommandMode.VELOCITY;
  cmd.position = new Int32Array(n); cmd.velocity = new Float32Array(n).fill(200); cmd.feedforward = new Float32Array(n);
  let driver: NodeJS.Timeout | null = null;
  return {
    rig, mqtt, supervisor, estops,
    activate() {
      supervisor.planReceived(systemClock.nowUs() + 60_000_000);
      if (!supervisor.resume({ id: 'alice', role: 'operator' })) throw new Error(`resume refused in ${supervisor.state}`);
      driver ??= setInterval(() => { if (supervisor.motionAllowed) rig.link.sendCommand(cmd); }, 10);
    },
    async dispose() {
      if (driver) clearInterval(driver);
      await mqtt.stop();
      unbind();
      supervisor.dispose();
      await rig.dispose();
    },
  };
}
