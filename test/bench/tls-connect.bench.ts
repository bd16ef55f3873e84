/**
 * TLS handshake and reconnect for a fleet of 1000 robots, embedded broker and Mosquitto, with
 * plaintext MQTT as the peer in the same run:
 * - connect: every robot's client opens its connection (at most CONCURRENCY handshakes in flight);
 *   per robot, socket opened → CONNACK (TCP + TLS + MQTT CONNECT with a password); and the wall
 *   time until all 1000 are connected;
 * - reconnect: the broker goes away (every connection drops) and comes back on the same port; all
 *   1000 clients retry on their own (every 500 ms, RobotMqtt's default); per robot, outage start → its CONNACK, and the
 *   time until the last one is back (both include the broker's own restart, reported alone).
 * Robots here are bare MQTT clients (mqtt.js over node:tls, as RobotMqtt connects), not whole rigs.
 */
import { connect as tlsConnect } from 'node:tls';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { EmbeddedBroker, MosquittoProcess } from '../../edge/mqtt/index.js';
import type { FleetAccounts } from '../../edge/mqtt/index.js';
import { makeTestCerts, type TestCerts } from '../e2e/tls-fixture.js';
import { nowNs, stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const ROBOTS = Number(process.env.SPINAL_TLS_ROBOTS ?? 1000);
const CONCURRENCY = 50;
const DEADLINE_MS = 120_000;
/** RobotMqtt's default reconnect period. */
const RETRY_MS = 500;

interface Broker {
  url: string;
  /** Drops every connection and listens again on the same port; resolves when it accepts. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const ids = Array.from({ length: ROBOTS }, (_, i) => `r${i + 1}`);
const accounts: FleetAccounts = { fleet: 'f', robots: ids.map((id) => ({ id, password: `${id}-secret` })), operators: [], viewers: [] };

async function startBroker(kind: 'embedded' | 'mosquitto', certs: TestCerts | null): Promise<Broker> {
  if (kind === 'embedded') {
    const opts = { ...accounts, ...(certs ? { tls: certs.server } : {}), throttle: { maxFailures: 1_000_000 } };
    let b = await EmbeddedBroker.start(opts);
    const port = b.port;
    return {
      url: b.url,
      async restart() { await b.close(); b = await EmbeddedBroker.start({ ...opts, port }); },
      stop: () => b.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-mosquitto-'));
  const tls = certs ? { tls: { certfile: certs.files.cert, keyfile: certs.files.key } } : {};
  let p = await MosquittoProcess.start({ ...accounts, ...tls, dir, persistence: false, timeoutMs: 10_000 });
  const port = p.port;
  return {
    url: p.url,
    async restart() { await p.stop(); p = await MosquittoProcess.start({ ...accounts, ...tls, dir, port, persistence: false, timeoutMs: 10_000 }); },
    async stop() { await p.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

interface Robot {
  client: MqttClient;
  openedAt: number;
  connectedAt: number;
}

function robotClient(url: string, id: string, ca: Buffer | null, onConnect: (r: Robot) => void): Robot {
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port);
  const r: Robot = { client: null as unknown as MqttClient, openedAt: 0, connectedAt: 0 };
  r.client = new MqttClient(() => {
    r.openedAt = nowNs();
    if (!ca) return createConnection({ host, port, noDelay: true });
    const s = tlsConnect({ host, port, ca });
    s.setNoDelay(true);
    return s;
  }, { protocolVersion: 4, clientId: `bench-${id}`, username: id, password: `${id}-secret`, clean: true, keepalive: 60, reconnectPeriod: RETRY_MS, connectTimeout: 30_000, manualConnect: true });
  r.client.on('error', () => undefined);
  r.client.on('connect', () => { r.connectedAt = nowNs(); onConnect(r); });
  return r;
}

/** Waits for `cond`; false when DEADLINE_MS passed first (the figure is then reported as missing, with the count). */
async function until(cond: () => boolean): Promise<boolean> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 5));
  }
  return true;
}

async function measure(kind: 'embedded' | 'mosquitto', certs: TestCerts | null): Promise<{ handshake: number[]; connectAllMs: number; restartMs: number; reconnect: number[]; reconnectAllMs: number; back: number }> {
  const broker = await startBroker(kind, certs);
  const robots: Robot[] = [];
  let connected = 0;
  let waiting: (() => void) | null = null;
  const onConnect = (): void => { connected += 1; const w = waiting; waiting = null; w?.(); };
  try {
    const handshake: number[] = [];
    const t0 = nowNs();
    for (const id of ids) {
      while (robots.length - connected >= CONCURRENCY) await new Promise<void>((res) => { waiting = res; });
      const r = robotClient(broker.url, id, certs?.ca ?? null, (x) => { if (handshake.length < ROBOTS) handshake.push((x.connectedAt - x.openedAt) / 1e6); onConnect(); });
      robots.push(r);
      r.client.connect();
    }
    if (!(await until(() => connected >= ROBOTS))) throw new Error(`${kind}: only ${connected} of ${ROBOTS} connected within ${DEADLINE_MS} ms`);
    const connectAllMs = (nowNs() - t0) / 1e6;

    const reconnect: number[] = [];
    connected = 0;
    const downAt = nowNs();
    for (const r of robots) r.client.removeAllListeners('connect').on('connect', () => { reconnect.push((nowNs() - downAt) / 1e6); connected += 1; });
    await broker.restart();
    const restartMs = (nowNs() - downAt) / 1e6;
    const all = await until(() => connected >= ROBOTS);
    const reconnectAllMs = all ? (nowNs() - downAt) / 1e6 : Number.NaN;
    return { handshake, connectAllMs, restartMs, reconnect, reconnectAllMs, back: connected };
  } finally {
    await Promise.all(robots.map((r) => r.client.endAsync(true).catch(() => undefined)));
    await broker.stop();
  }
}

export const scenario: Scenario = {
  name: 'tls-connect',
  description: `TLS handshake and reconnect of ${ROBOTS} robots, embedded broker and Mosquitto, against plaintext`,
  async run(): Promise<BenchResult> {
    const certs = await makeTestCerts(['r1']);
    const load = loadavg()[0] ?? Number.NaN;
    const rows: Cell[][] = [];
    const summary: Record<string, number> = {};
    try {
      for (const kind of ['embedded', 'mosquitto'] as const) {
        const plain = await measure(kind, null);
        const secure = await measure(kind, certs);
        for (const [name, m] of [['mqtt://', plain], ['mqtts://', secure]] as const) {
          const h = stats(m.handshake);
          const r = stats(m.reconnect);
          rows.push([`${kind} ${name}`, h.n, h.median, h.p99, m.connectAllMs, m.restartMs, m.back, r.median, r.p99, m.reconnectAllMs]);
        }
        const hp = stats(plain.handshake);
        const hs = stats(secure.handshake);
        summary[`${kind} TLS handshake p50 ms`] = hs.median;
        summary[`${kind} TLS handshake p99 ms`] = hs.p99;
        summary[`${kind} handshake p50 ratio mqtts/mqtt`] = hs.median / hp.median;
        summary[`${kind} all ${ROBOTS} reconnected over TLS ms`] = secure.reconnectAllMs;
        summary[`${kind} reconnect-all ratio mqtts/mqtt`] = secure.reconnectAllMs / plain.reconnectAllMs;
      }
    } finally {
      certs.dispose();
    }
    return {
      scenario: 'tls-connect',
      title: `${ROBOTS} robots connecting (${CONCURRENCY} handshakes in flight) and reconnecting after a broker restart (all at once, retry every ${RETRY_MS} ms), loopback`,
      columns: ['broker / transport', 'n', 'connect p50 ms', 'connect p99 ms', `all ${ROBOTS} connected ms`, 'broker restart ms', `back within ${DEADLINE_MS / 1000} s`, 'reconnect p50 ms', 'reconnect p99 ms', `all ${ROBOTS} back ms`],
      rows,
      summary,
      notes: [
        'connect: socket opened → CONNACK per robot (TCP + TLS 1.3 ECDSA P-256 + MQTT CONNECT with a password); reconnect: outage start (broker stopped) → the robot\'s CONNACK, including the broker restart',
        'peer: the same clients over mqtt://, measured in the same run',
        'the clients and (for the embedded broker) the broker share this process and its cores: handshakes queue behind each other, so p99 includes that queueing',
        `1-minute load average at the start: ${load.toFixed(2)} on ${cpus().length} CPUs (shared with other work on this machine)`,
      ],
    };
  },
};
