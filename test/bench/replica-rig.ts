/**
 * Brain replicas behind a real HAProxy, for the failover e2e test and benchmark: `spinal cloud`
 * processes (each a tethered child, so kill -9 and SIGTERM are real), HAProxy from the
 * configuration `spinal haproxy` writes (a child under a parent-death SIGKILL), and robots played
 * by CloudLink clients (the edge's own brain link, without control loops) over mutual TLS, each
 * recording what it lived through: sessions, plans, lapses, tasks. The replicas keep tasks in one
 * shared store (`tasks.store: "mqtt"` on an embedded broker in this process), and each robot's
 * task is set through one replica only. Loopback only; the brains and the health endpoints take
 * port 0 and report their ports in their first log line.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HAPROXY_BACKEND, HAPROXY_DEFAULTS, writeHaproxyConfig } from '../../cloud/balancer/haproxy-config.js';
import { runCerts } from '../../cloud/security/dev-certs.js';
import { operatorClient, setTask } from '../../cloud/testing/brain-test-client.js';
import { CloudLink } from '../../edge/cloud-link/cloud-link.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { SettableState, J, profile } from '../../edge/cloud-link/testing/link-fixture.js';
import type { AcceptedPlan } from '../../edge/cloud-link/cloud-link-types.js';
import { spawnNodeChild, spawnProgram } from '../../edge/process/tethered-child.js';
import { waitFor } from '../e2e/link-harness.js';
import { REFERENCE_GOAL_LATENT_SPACE, referenceGoalLatentDim } from '../../proto/latent/reference-goal.js';

/** Debian's haproxy binary, or null when this machine has none. */
export function findHaproxy(): string | null {
  for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

export interface Replica {
  /** Its replicaId and HAProxy server name: brain1, brain2, ... */
  name: string;
  child: ChildProcess;
  port: number;
  healthPort: number;
  /** Its log lines (pino JSON), as parsed objects. */
  log: Record<string, unknown>[];
  /** performance.now() at exit; null while it runs. */
  exitedAt: number | null;
  exited: Promise<void>;
}

/** One robot's view of its brain sessions. */
export class RobotProbe {
  /** Replica of the open session; null between sessions. */
  replica: string | null = null;
  instruction = '';
  /** Plans received per replica. */
  readonly plansFrom = new Map<string, number>();
  /** Broken rules (a Welcome inside an open session, a plan outside one, ...); must stay empty. */
  readonly violations: string[] = [];
  /** performance.now() of the first plan of the current session. */
  firstPlanAt: number | null = null;
  /** performance.now() when the last plan lapsed with no newer one (the robot holds); null after a fresh plan. */
  holdingSince: number | null = null;
  /** ms spent holding, summed over lapses. */
  heldMs = 0;
  /** Observation → plan round trips (ms). */
  readonly roundTrips: number[] = [];
  sessionEndedAt: number | null = null;
  readonly sessions: string[] = [];

  constructor(readonly id: string, readonly link: CloudLink) {
    link.on('welcome', (w) => {
      if (this.replica !== null) this.violations.push(`welcome ${w.sessionId} while session on ${this.replica} is open`);
      this.replica = replicaOf(w.sessionId);
      this.sessions.push(w.sessionId);
      this.firstPlanAt = null;
      this.instruction = w.instruction;
    });
    link.on('state-change', (ev) => {
      if (ev.from === 'ACTIVE') {
        this.replica = null;
        this.sessionEndedAt = performance.now();
      }
    });
    link.on('task', (t) => { this.instruction = t.instruction; });
    link.on('plan', (p: AcceptedPlan) => {
      const now = performance.now();
      if (this.replica === null || link.linkState !== 'ACTIVE') {
        this.violations.push(`plan ${p.planId} outside a session`);
        return;
      }
      this.plansFrom.set(this.replica, (this.plansFrom.get(this.replica) ?? 0) + 1);
      this.firstPlanAt ??= now;
      if (this.holdingSince !== null) {
        this.heldMs += now - this.holdingSince;
        this.holdingSince = null;
      }
      this.roundTrips.push((p.receivedUs - p.captureUs) / 1000);
    });
    link.on('plan-expired', () => { this.holdingSince ??= performance.now(); });
  }

  /** ACTIVE on `replica` with at least one plan from it in this session. */
  servedBy(replica: string): boolean {
    return this.replica === replica && this.firstPlanAt !== null && this.link.linkState === 'ACTIVE';
  }
}

/** "brain2-s14" -> "brain2". */
export function replicaOf(sessionId: string): string {
  const i = sessionId.lastIndexOf('-s');
  return i < 0 ? '' : sessionId.slice(0, i);
}

export interface ReplicaRigOptions {
  /** The compiled CLI, dist/bin/spinal.js. */
  cli: string;
  haproxy: string;
  replicas: number;
  robots: number;
  /** Robots that connect straight to the first replica, bypassing HAProxy ("direct1", ...). */
  directRobots?: number;
  /** More robot ids in the fleet, with certificates and tasks, that the caller connects itself (real edge daemons). */
  extraRobots?: readonly string[];
  /** HAProxy's check interval (ms), fall and rise. */
  interMs?: number;
  fall?: number;
  rise?: number;
  planValidityMs?: number;
  drainTimeoutMs?: number;
  observationRateHz?: number;
}

export interface ReplicaRig {
  replicas: Replica[];
  robots: RobotProbe[];
  direct: RobotProbe[];
  /** 127.0.0.1:<port> of HAProxy's listener. */
  address: string;
  /** Paths of a robot's certificate, key and the CA (for extraRobots). */
  robotTlsFiles(id: string): { ca: string; cert: string; key: string };
  instructionFor(robotId: string): string;
  /** The replica each robot's task was set through (one per robot, round robin): the store carries it to the others. */
  taskSetThrough(robotId: string): string;
  /** The shared task store's broker (in this process); the replicas use it with the "brain" account. */
  taskBroker: EmbeddedBroker;
  /** `show servers state` of the brains' backend: server name -> operational state (0 down, 2 up). */
  serverStates(): Promise<Map<string, number>>;
  /** Robots of `replica` (as far as they know). */
  on(replica: string): RobotProbe[];
  close(): Promise<void>;
}

/** Sends one command to HAProxy's stats socket; resolves with the answer. */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let out = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => { out += d; });
    c.on('end', () => resolve(out));
    c.on('error', reject);
    c.write(`${command}\n`);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const INSTRUCTIONS = ['go home', 'hold', 'wave', 'go to ready'];
const TASK_FLEET = 'ha';

async function startReplica(cli: string, dir: string, name: string, config: object): Promise<Replica> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawnNodeChild([cli, 'cloud', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: Record<string, unknown>[] = [];
  let stderr = '';
  const r: Partial<Replica> & { exitedAt: number | null } = { name, child, log, exitedAt: null };
  r.exited = new Promise<void>((resolve) => child.once('exit', () => { r.exitedAt = performance.now(); resolve(); }));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  let buf = '';
  return new Promise<Replica>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`replica ${name} exited (${code}) before it listened: ${stderr}`)));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let o: Record<string, unknown>;
        try { o = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
        log.push(o);
        if (o['msg'] === 'brain listening') {
          r.port = o['port'] as number;
          r.healthPort = o['healthPort'] as number;
          resolve(r as Replica);
        }
      }
    });
  });
}

export async function startReplicaRig(o: ReplicaRigOptions): Promise<ReplicaRig> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-ha-'));
  const ids = Array.from({ length: o.robots }, (_, i) => `robot${i + 1}`);
  const directIds = [...Array.from({ length: o.directRobots ?? 0 }, (_, i) => `direct${i + 1}`), ...(o.extraRobots ?? [])];
  const fall = o.fall ?? 2;
  const replicas: Replica[] = [];
  const robots: RobotProbe[] = [];
  const direct: RobotProbe[] = [];
  let haproxy: ChildProcess | null = null;
  let taskBroker: EmbeddedBroker | null = null;
  const close = async (): Promise<void> => {
    for (const r of [...robots, ...direct]) r.link.close();
    for (const r of replicas) if (r.exitedAt === null) r.child.kill('SIGKILL');
    const hp = haproxy;
    const hpGone = hp === null || hp.exitCode !== null || hp.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => hp.once('exit', () => resolve()));
    hp?.kill('SIGKILL');
    await Promise.all([...replicas.map((r) => r.exited), hpGone]);
    await taskBroker?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await runCerts({ out: dir, robots: [...ids, ...directIds], operators: ['olga'], serverNames: ['127.0.0.1', 'localhost'] });
    const f = (n: string): string => join(dir, n);
    const tasksBroker = await EmbeddedBroker.start({ fleet: TASK_FLEET, robots: [], operators: [], viewers: [], brains: [{ name: 'brain', password: 'brain-secret' }] });
    taskBroker = tasksBroker;
    writeFileSync(f('brain.password'), 'brain-secret\n');
    for (let i = 0; i < o.replicas; i++) {
      replicas.push(await startReplica(o.cli, dir, `brain${i + 1}`, {
        listen: { host: '127.0.0.1', port: 0 },
        tls: { certFile: f('server.pem'), keyFile: f('server-key.pem'), caFile: f('ca.pem') },
        robots: [...ids, ...directIds], replicaId: `brain${i + 1}`,
        planValidityMs: o.planValidityMs ?? 1000, drainTimeoutMs: o.drainTimeoutMs ?? 5000,
        health: { host: '127.0.0.1', port: 0, downAfterChecks: fall, noticeTimeoutMs: 30_000 },
        tasks: { store: 'mqtt', url: tasksBroker.url, fleet: TASK_FLEET, username: 'brain', passwordFile: f('brain.password') },
        log: { level: 'info' },
      }));
    }
    // Each robot's task is set through one replica, round robin; the shared store brings it to the others.
    const instructionFor = (id: string): string => INSTRUCTIONS[Number(/\d+$/.exec(id)?.[0] ?? 0) % INSTRUCTIONS.length] as string;
    const allIds = [...ids, ...directIds];
    const taskSetThrough = (id: string): string => (replicas[allIds.indexOf(id) % replicas.length] as Replica).name;
    const creds = grpc.credentials.createSsl(readFileSync(f('ca.pem')), readFileSync(f('operator-olga-key.pem')), readFileSync(f('operator-olga.pem')));
    for (const r of replicas) {
      const op = operatorClient(`127.0.0.1:${r.port}`, creds);
      try {
        for (const id of allIds) if (taskSetThrough(id) === r.name) await setTask(op, id, instructionFor(id));
      } finally {
        op.close();
      }
    }
    const listen = await freePort();
    const statsSocket = f('admin.sock');
    const cfg = writeHaproxyConfig(dir, {
      ...HAPROXY_DEFAULTS, listen: `127.0.0.1:${listen}`, statsSocket,
      interMs: o.interMs ?? 200, fall, rise: o.rise ?? 2, maxconn: 1000,
      replicas: replicas.map((r) => ({ name: r.name, host: '127.0.0.1', grpcPort: r.port, healthPort: r.healthPort })),
    });
    const hp = spawnProgram(o.haproxy, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    haproxy = hp;
    let hpErr = '';
    hp.stderr?.setEncoding('utf8').on('data', (d: string) => { hpErr += d; });
    let hpExit: number | null | undefined;
    hp.once('exit', (code) => { hpExit = code; });
    const serverStates = async (): Promise<Map<string, number>> => {
      const text = await haproxyCommand(statsSocket, `show servers state ${HAPROXY_BACKEND}`);
      const lines = text.split('\n');
      const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(' ');
      const nameCol = header.indexOf('srv_name');
      const opCol = header.indexOf('srv_op_state');
      const out = new Map<string, number>();
      for (const l of lines) {
        if (l === '' || l.startsWith('#') || !l.includes(' ')) continue;
        const cols = l.split(' ');
        out.set(cols[nameCol] as string, Number(cols[opCol]));
      }
      return out;
    };
    await waitFor('HAProxy to mark every replica up', async () => {
      if (hpExit !== undefined) throw new Error(`haproxy exited (${hpExit}): ${hpErr}`);
      try {
        const st = await serverStates();
        return replicas.every((r) => st.get(r.name) === 2);
      } catch {
        return false;
      }
    }, 20_000);
    const address = `127.0.0.1:${listen}`;
    const makeRobot = (id: string, target: string): RobotProbe => {
      const link = new CloudLink({
        target, robotId: id, profile, softwareVersion: '0.1.0', state: new SettableState(),
        decoder: { latentSpace: REFERENCE_GOAL_LATENT_SPACE, latentDim: referenceGoalLatentDim(J), stateDim: J, actionDim: J, horizon: 16, controlHz: 100 },
        tls: { ca: readFileSync(f('ca.pem')), cert: readFileSync(f(`robot-${id}.pem`)), key: readFileSync(f(`robot-${id}-key.pem`)) },
        observationRateHz: o.observationRateHz ?? 10,
      });
      const probe = new RobotProbe(id, link);
      link.start();
      return probe;
    };
    for (const id of ids) robots.push(makeRobot(id, address));
    for (const id of directIds.slice(0, o.directRobots ?? 0)) direct.push(makeRobot(id, `127.0.0.1:${(replicas[0] as Replica).port}`));
    return {
      replicas, robots, direct, address, instructionFor, taskSetThrough, taskBroker: tasksBroker, serverStates,
      robotTlsFiles: (id) => ({ ca: f('ca.pem'), cert: f(`robot-${id}.pem`), key: f(`robot-${id}-key.pem`) }),
      on: (replica) => robots.filter((r) => r.replica === replica),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
