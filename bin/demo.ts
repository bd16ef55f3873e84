/**
 * `spinal demo` (what `npm start` runs): a fleet on one machine, as separate processes wired the
 * way they are in production — the brain (`spinal cloud`, reference backend), and per robot a
 * virtual firmware on a pseudo-terminal (`spinal sim`) and an edge daemon (`spinal edge --config`)
 * — plus, in this process, the embedded MQTT broker (TCP for robots, WebSocket for browsers) and
 * an operator that gives every robot a task and resumes it once. The brain serves the fleet
 * dashboard; its URL and two logins (operator, viewer; fresh passwords each run) are printed. The
 * terminal shows the fleet as the robots report it over MQTT. Ctrl-C stops everything; the
 * children hold a parent-death pipe (tethered-child), so they also stop when the demo is killed.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../edge/mqtt/broker/embedded-broker.js';
import { freePort } from '../edge/mqtt/broker/mosquitto-process.js';
import { spawnNodeChild } from '../edge/process/tethered-child.js';
import { brainServiceDefinitions } from '../proto/brain/index.js';
import { StateSummarySchema, robotTopics, type StateSummary } from '../proto/mqtt/index.js';
import { qemuSimUnavailable } from '../firmware-shim/qemu/index.js';

// Compiled: dist/bin/spinal.js. From the sources (tests), spinal.ts, run with this process's own
// loader flags (execArgv), which the children inherit.
const SELF = ((): string => {
  const js = fileURLToPath(new URL('./spinal.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./spinal.ts', import.meta.url));
})();
const NODE_ARGS = [...process.execArgv, SELF];
const FLEET = 'demo';
const OPERATOR = 'demo-operator';
const PROFILES = ['arm6-gripper', 'quadruped12'];
/** The virtual firmware's STATE rate in the demo: enough to see, light enough for a laptop. */
const DEMO_STATE_HZ = 250;
/** Flight recordings of one demo robot are kept under this (oldest files deleted first). */
const DEMO_RECORDING_QUOTA_BYTES = 256 * 1024 * 1024;
/** The virtual MCU's host watchdog in the demo (see where it is used). */
const DEMO_WATCHDOG_MS = 300;
/** The edge's main-loop stall bound in the demo: as above, the fleet shares one machine. */
const DEMO_MAIN_STALL_BOUND_MS = 300;
/** The first robot's live view port (Foxglove's usual one); the next robots take the ports after it. */
const LIVE_VIEW_BASE_PORT = 8765;
/**
 * Robots on the QEMU firmware: QEMU's UART takes only 10-26 kB/s from the host, and a COMMAND is
 * about 100 bytes on the wire for the 7-joint arm, 160 for the quadruped, so the daemon's default
 * 200 Hz command stream (20-32 kB/s) would outrun it. 20 Hz leaves room for HEARTBEAT and
 * TIME_SYNC; STATE (MCU to host, which QEMU sends much faster) at 100 Hz.
 */
const QEMU_COMMAND_HZ = 20;
const QEMU_STATE_HZ = 100;
/** QEMU's PTY backend holds host bytes for hundreds of ms at times (firmware-shim/c/README.md):
 * the demo's 300 ms tripped the QEMU firmware's watchdog on a loaded machine. */
const QEMU_WATCHDOG_MS = 1500;

interface RobotProc {
  id: string;
  profile: string;
  sim: ChildProcess;
  edge: ChildProcess | null;
  summary: StateSummary | null;
  tasked: boolean;
  /** The demo operator resumes each robot once; after that only people do. */
  resumed: boolean;
  /** The robot's Foxglove live view, on 127.0.0.1. */
  liveViewPort: number;
}

/** `preferred` when it is free on 127.0.0.1, else any free port. */
async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

/** The first stdout line of a child (the sim prints its tty path there). */
function firstLine(child: ChildProcess, what: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error(`${what}: no stdout`));
    const rl = createInterface({ input: child.stdout });
    const t = setTimeout(() => reject(new Error(`${what}: nothing printed within ${ms} ms`)), ms);
    rl.once('line', (line) => { clearTimeout(t); resolve(line.trim()); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited with code ${code}`)); });
  });
}

function operatorClient(address: string): grpc.Client & Record<string, (req: object, cb: (e: grpc.ServiceError | null, r?: unknown) => void) => void> {
  const Ctor = grpc.makeGenericClientConstructor(brainServiceDefinitions().operator as unknown as grpc.ServiceDefinition, 'Operator');
  return new Ctor(address, grpc.credentials.createInsecure()) as never;
}

function call<T>(client: ReturnType<typeof operatorClient>, method: string, req: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method];
    if (!fn) return reject(new Error(`no method ${method}`));
    fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r as T)));
  });
}

function deg(rad: number): string {
  return ((rad * 180) / Math.PI).toFixed(0).padStart(5);
}

function render(robots: RobotProc[], brain: string, broker: string, logs: string, dashboard: string): string {
  const lines = [
    `spinal demo — fleet "${FLEET}": ${robots.length} robots · brain ${brain} · MQTT ${broker}`,
    dashboard,
    `logs: ${logs}`,
    '',
    `${'robot'.padEnd(8)}${'profile'.padEnd(15)}${'safety'.padEnd(10)}${'link'.padEnd(10)}sent joint positions (deg)`,
  ];
  for (const r of robots) {
    const s = r.summary;
    const pos = s?.sent ? s.sent.position.slice(0, 8).map(deg).join('') : '  (nothing sent yet)';
    lines.push(`${r.id.padEnd(8)}${r.profile.padEnd(15)}${(s?.safety.state ?? 'starting').padEnd(10)}${(s?.link.state ?? '-').padEnd(10)}${pos}`);
  }
  lines.push('', `live view in Foxglove (Open connection → Foxglove WebSocket; docs/live-view.md): ${robots.map((r) => `${r.id} ws://127.0.0.1:${r.liveViewPort}`).join(' · ')}`);
  lines.push('', 'Every robot is given the task "wave" and resumed once by the demo operator; after a stop, reset and resume from the dashboard. Ctrl-C stops everything.');
  return lines.join('\n');
}

export async function runDemo(opts: { robots: number; rate?: number; dashboardPort?: number; firmware?: 'virtual' | 'qemu' }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-demo-'));
  // Kept after the demo ends (unlike `dir`): the flight recordings, one directory per robot.
  const recordings = resolvePath(process.env.SPINAL_RECORDINGS ?? 'recordings');
  const children: ChildProcess[] = [];
  let broker: EmbeddedBroker | null = null;
  let op: mqtt.MqttClient | null = null;
  let view: NodeJS.Timeout | null = null;
  let driver: NodeJS.Timeout | null = null;
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (view) clearInterval(view);
    if (driver) clearInterval(driver);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => waitExit(c, 5000)));
    await op?.endAsync().catch(() => undefined);
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const log = (m: string): void => console.log(`spinal demo: ${m}`);
  const out = (name: string): number => openSync(join(dir, `${name}.log`), 'a');

  try {
    const ids = Array.from({ length: opts.robots }, (_, i) => `robot${i + 1}`);
    const secret = (): string => randomBytes(12).toString('hex');
    const accounts = {
      fleet: FLEET,
      robots: ids.map((id) => ({ id, password: secret() })),
      operators: [{ name: OPERATOR, password: secret() }, { name: 'operator', password: secret() }],
      viewers: [{ name: 'viewer', password: secret() }],
    };
    writeFileSync(join(dir, 'accounts.json'), JSON.stringify(accounts), { mode: 0o600 });
    // The dashboard mints broker tokens for browsers with this key; the broker checks them with it.
    const tokenKey = randomBytes(32);
    writeFileSync(join(dir, 'broker-token.key'), tokenKey, { mode: 0o600 });
    broker = await EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', port: 0, ws: { port: 0 }, tokenKey });
    const wsUrl = broker.wsUrl ?? '';
    log(`embedded MQTT broker on ${broker.url} (WebSocket ${wsUrl})`);

    const brainPort = await freePort();
    const dashboardPort = await portOr(opts.dashboardPort ?? 8080);
    const dashboard = { listen: { host: '127.0.0.1', port: dashboardPort }, fleet: FLEET, accountsFile: join(dir, 'accounts.json'), mqttUrl: wsUrl, brokerTokenKeyFile: join(dir, 'broker-token.key') };
    writeFileSync(join(dir, 'cloud.json'), JSON.stringify({ listen: { host: '127.0.0.1', port: brainPort }, robots: ids, planValidityMs: 1500, metrics: null, log: { level: 'warn' }, dashboard }));
    const brain = spawnNodeChild([...NODE_ARGS, 'cloud', '--config', join(dir, 'cloud.json')], { stdio: ['ignore', out('brain'), out('brain')] });
    children.push(brain);
    const brainAddr = `127.0.0.1:${brainPort}`;
    const client = operatorClient(brainAddr);
    // Generous: every process of the fleet starts on this one machine, from the sources in tests,
    // and a loaded machine was seen to take 45-50 s for the brain alone.
    const deadline = Date.now() + 120_000;
    for (;;) {
      try { await call(client, 'ListSessions', {}); break; } catch (e) {
        if (Date.now() > deadline || brain.exitCode !== null) throw new Error(`the brain did not start (see ${join(dir, 'brain.log')}): ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    log(`brain (reference backend) on ${brainAddr}`);
    const login = (role: 'operator' | 'viewer'): string => {
      const a = role === 'operator' ? accounts.operators[1] : accounts.viewers[0];
      return `${a?.name ?? '?'} / ${a?.password ?? '?'}`;
    };
    const dashboardLine = `dashboard: http://127.0.0.1:${dashboardPort}/ — log in as ${login('operator')} (commands) or ${login('viewer')} (watch only)`;
    log(dashboardLine);

    const robots: RobotProc[] = [];
    for (const [i, id] of ids.entries()) {
      const profile = PROFILES[i % PROFILES.length] as string;
      const tty = join(dir, `${id}.tty`);
      let qemu = opts.firmware === 'qemu';
      const why = qemu ? qemuSimUnavailable(profile) : null;
      if (why !== null) {
        log(`${id}: --firmware qemu unavailable (${why}); running the virtual firmware instead`);
        qemu = false;
      }
      const simArgs = qemu
        ? ['sim', '--firmware', 'qemu', '--profile', profile, '--link', tty]
        : ['sim', '--profile', profile, '--link', tty, '--rate', String(opts.rate ?? DEMO_STATE_HZ), '--seed', String(i + 1)];
      const sim = spawnNodeChild([...NODE_ARGS, ...simArgs], { stdio: ['ignore', 'pipe', out(`${id}-sim`)] });
      children.push(sim);
      await firstLine(sim, `${qemu ? 'QEMU' : 'virtual'} ${profile} for ${id}`, 120_000);
      // Each robot's Foxglove live view (loopback only): 8765, 8766, … when free.
      const liveViewPort = await portOr(LIVE_VIEW_BASE_PORT + i);
      const password = accounts.robots[i]?.password ?? '';
      writeFileSync(join(dir, `${id}.mqtt-password`), password, { mode: 0o600 });
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({
        robot: { id, profile },
        // Every process of the fleet shares this one machine (and starts from the sources in
        // tests), so a start-up stall of one can exceed the profile's 100 ms MCU watchdog and trip
        // it (seen in CI). A real robot keeps its profile's value.
        serial: { path: tty, stateRateHz: qemu ? Math.min(opts.rate ?? QEMU_STATE_HZ, QEMU_STATE_HZ) : opts.rate ?? DEMO_STATE_HZ, watchdogMs: qemu ? QEMU_WATCHDOG_MS : DEMO_WATCHDOG_MS },
        control: { mainStallBoundMs: DEMO_MAIN_STALL_BOUND_MS, ...(qemu ? { rateHz: QEMU_COMMAND_HZ } : {}) },
        cloud: { target: brainAddr, observationRateHz: 10 },
        mqtt: { url: broker.url, fleet: FLEET, passwordFile: join(dir, `${id}.mqtt-password`), telemetryHz: 10 },
        liveView: { port: liveViewPort },
        // The demo records everything (a robot in production records only when configured to).
        recording: { enabled: true, dir: join(recordings, id), quotaBytes: DEMO_RECORDING_QUOTA_BYTES, rotateBytes: DEMO_RECORDING_QUOTA_BYTES / 4 },
        log: { level: 'info' },
      }));
      const edge = spawnNodeChild([...NODE_ARGS, 'edge', '--config', join(dir, `${id}.json`)], { stdio: ['ignore', out(`${id}-edge`), out(`${id}-edge`)] });
      children.push(edge);
      robots.push({ id, profile, sim, edge, summary: null, tasked: false, resumed: false, liveViewPort });
      log(`${id}: ${qemu ? 'QEMU (mps2-an386)' : 'virtual'} ${profile} on ${tty}, edge daemon started, recording to ${join(recordings, id)}`);
      log(`${id}: live view for Foxglove at ws://127.0.0.1:${liveViewPort} (Open connection → Foxglove WebSocket; see docs/live-view.md)`);
    }

    const opPassword = accounts.operators[0]?.password ?? '';
    op = await mqtt.connectAsync(broker.url, { username: OPERATOR, password: opPassword, clientId: `${OPERATOR}-${process.pid}` });
    await op.subscribeAsync(`spinal/v1/${FLEET}/+/state`);
    op.on('message', (topic, payload) => {
      const id = topic.split('/')[3];
      const r = robots.find((x) => x.id === id);
      if (!r) return;
      const parsed = StateSummarySchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (parsed.success) r.summary = parsed.data;
    });

    // The operator: a task for each robot once its daemon is up, and a resume while it waits.
    let seq = 0;
    driver = setInterval(() => {
      for (const r of robots) {
        const s = r.summary;
        if (!s || s.link.state !== 'READY') continue;
        if (!r.tasked) {
          r.tasked = true;
          call(client, 'SetTask', { robotId: r.id, instruction: 'wave' }).catch(() => { r.tasked = false; });
        }
        if (s.safety.state === 'ACTIVE') r.resumed = true;
        if (!r.resumed && s.safety.state === 'IDLE' && op) {
          const msg = { v: 1, kind: 'resume', id: `resume-${++seq}`, operator: OPERATOR, at: Date.now() };
          void op.publishAsync(robotTopics(FLEET, r.id).resumeBy(OPERATOR), JSON.stringify(msg), { qos: 1 }).catch(() => undefined);
        }
      }
    }, 500);
    view = setInterval(() => {
      process.stdout.write(`\x1b[H\x1b[2J${render(robots, brainAddr, broker?.url ?? '-', dir, dashboardLine)}\n`);
    }, 250);

    const died = new Promise<string>((resolve) => {
      for (const c of children) c.once('exit', (code, sig) => { if (!stopping) resolve(`a child process exited (code ${code}, signal ${sig}); logs in ${dir}`); });
    });
    const reason = await Promise.race([interrupted.then(() => null), died]);
    if (reason !== null) {
      console.error(`\nspinal demo: ${reason}`);
      const keep = dir;
      stopping = false;
      await stopAllKeepingLogs();
      console.error(`spinal demo: logs kept in ${keep}`);
      return 1;
    }
    await stopAll();
    console.log('\nspinal demo: stopped');
    return 0;
  } catch (e) {
    console.error(`spinal demo: ${(e as Error).message}`);
    await stopAllKeepingLogs();
    return 1;
  }

  async function stopAllKeepingLogs(): Promise<void> {
    if (view) clearInterval(view);
    if (driver) clearInterval(driver);
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => waitExit(c, 5000)));
    await op?.endAsync().catch(() => undefined);
    await broker?.close();
  }
}
