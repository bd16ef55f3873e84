/**
 * The edge daemon's own CPU and allocation rate, as `spinal edge` runs on a robot: a child process
 * (the compiled daemon, `node --trace-gc`) driving a virtual firmware (`spinal sim`, its own child
 * process) at 1 kHz STATE, with 500 Hz control, 10 Hz observations to the reference brain and
 * 20 Hz telemetry to the embedded MQTT broker (both in this process). The robot stays IDLE (no
 * resume), so it holds position at 500 Hz and decodes nothing: the daemon without inference.
 * CPU: utime + stime from /proc/<pid>/stat over the window, as % of one core. Allocations: the
 * young generation's growth between scavenges from --trace-gc (MB/s), and scavenges per second.
 * Needs the build (npm run bench builds). SPINAL_BENCH_QUICK=1: a 10 s window instead of 30 s;
 * SPINAL_BENCH_EDGE_NODE_ARGS adds node flags to the daemon (profiling: --cpu-prof, --heap-prof).
 * SPINAL_BENCH_EDGE_PEER=<folder holding another build's bin/spinal.js> (e.g. a copy of main's
 * dist/ inside this checkout, so it finds node_modules): that daemon runs too, as robot r2 with
 * its own virtual firmware, in the same window, and the table compares the two side by side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { ACCOUNTS, FLEET, PASSWORDS } from '../e2e/mqtt-harness.js';
import { repoRoot, type BenchResult, type Scenario } from './harness.js';

const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

/**
 * "[pid:0xISOLATE] 1234 ms: Scavenge 5.2 (7.1) -> 4.3 (8.1) MB" lines of --trace-gc: the isolate
 * (the main thread and each worker have their own heap), heap MB before and after, time ms.
 */
interface Gc { isolate: string; atMs: number; kind: string; before: number; after: number }
function parseGc(line: string): Gc | null {
  const m = /\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-sweep)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+)/.exec(line);
  return m ? { isolate: m[1] as string, atMs: Number(m[2]), kind: m[3] as string, before: Number(m[4]), after: Number(m[5]) } : null;
}

/** MB allocated in `window` (growth between consecutive GCs of the same isolate), by isolate. */
function allocatedByIsolate(history: Gc[], window: Gc[]): Map<string, number> {
  const last = new Map<string, Gc>();
  for (const g of history) last.set(g.isolate, g);
  const out = new Map<string, number>();
  for (const g of window) {
    const prev = last.get(g.isolate);
    if (prev) out.set(g.isolate, (out.get(g.isolate) ?? 0) + Math.max(0, g.before - prev.after));
    else out.set(g.isolate, out.get(g.isolate) ?? 0);
    last.set(g.isolate, g);
  }
  return out;
}

/** SIGTERM first (the daemon stops in order and --cpu-prof writes its profile), SIGKILL after 20 s. */
async function reap(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
  await done;
  clearTimeout(t);
}

interface Daemon { name: string; edge: ChildProcess; gcs: Gc[] }

/** A virtual firmware and a daemon (from `cli`) for robot `id`, both children of this process. */
async function startRobot(name: string, cli: string, id: 'r1' | 'r2', dir: string, brainPort: number, brokerUrl: string, kids: ChildProcess[]): Promise<Daemon> {
  const tty = join(dir, `${id}.tty`);
  const sim = spawn(process.execPath, [cli, 'sim', '--profile', 'arm6-gripper', '--link', tty, '--rate', '1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  kids.push(sim);
  await new Promise<void>((resolve, reject) => {
    sim.stdout?.once('data', () => resolve());
    sim.once('exit', (c) => reject(new Error(`spinal sim exited (${String(c)})`)));
  });
  writeFileSync(join(dir, `${id}.pw`), `${PASSWORDS[id] ?? ''}\n`);
  writeFileSync(join(dir, `${id}.json`), JSON.stringify({
    robot: { id, profile: 'arm6-gripper' },
    serial: { path: tty, stateRateHz: 1000 },
    control: { rateHz: 500, policy: 'crossfade', stepMs: 20 },
    cloud: { target: `127.0.0.1:${brainPort}`, observationRateHz: 10 },
    mqtt: { url: brokerUrl, fleet: FLEET, passwordFile: join(dir, `${id}.pw`), telemetryHz: 20 },
    log: { level: 'warn' },
  }));
  const gcs: Gc[] = [];
  // SPINAL_BENCH_EDGE_NODE_ARGS: more node flags for the daemon, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const extra = (process.env.SPINAL_BENCH_EDGE_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
  const edge = spawn(process.execPath, ['--trace-gc', ...extra, cli, 'edge', '--config', join(dir, `${id}.json`)], { stdio: ['ignore', 'pipe', 'ignore'] });
  kids.push(edge);
  let pending = '';
  edge.stdout?.on('data', (d: Buffer) => {
    pending += d.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) { const g = parseGc(l); if (g) gcs.push(g); }
  });
  return { name, edge, gcs };
}

interface Figures { cpuPct: number; allocMbS: number; topIsolateMbS: number; scavengesS: number; gcs: number }

/** Samples one daemon over the window that `wait` spans. */
async function measure(daemons: Daemon[], wait: () => Promise<void>): Promise<Figures[]> {
  for (const d of daemons) if (d.edge.exitCode !== null) throw new Error(`${d.name}: spinal edge exited (${d.edge.exitCode})`);
  const t0 = performance.now();
  const c0 = daemons.map((d) => cpuTicks(d.edge.pid as number));
  const g0 = daemons.map((d) => d.gcs.length);
  await wait();
  const t1 = performance.now();
  const c1 = daemons.map((d) => cpuTicks(d.edge.pid as number));
  const secs = (t1 - t0) / 1000;
  return daemons.map((d, k) => {
    const first = g0[k] as number;
    const window = d.gcs.slice(first);
    const byIsolate = [...allocatedByIsolate(d.gcs.slice(0, first), window).values()].sort((x, y) => y - x);
    const allocatedMb = byIsolate.reduce((x, y) => x + y, 0);
    const scavenges = window.filter((g) => g.kind === 'Scavenge' || g.kind === 'Minor Mark-Sweep').length;
    return { cpuPct: (((c1[k] as number) - (c0[k] as number)) / CLK_TCK / secs) * 100, allocMbS: allocatedMb / secs, topIsolateMbS: (byIsolate[0] ?? 0) / secs, scavengesS: scavenges / secs, gcs: window.length };
  });
}

export const scenario: Scenario = {
  name: 'edge-cpu',
  description: 'edge daemon CPU (% of one core) and allocation rate at 1 kHz STATE, 500 Hz control, 10 Hz observations, 20 Hz telemetry, no inference',
  async run(): Promise<BenchResult> {
    const windowS = process.env.SPINAL_BENCH_QUICK === '1' ? 10 : 30;
    const root = repoRoot();
    const cli = join(root, 'dist', 'bin', 'spinal.js');
    const peerDir = process.env.SPINAL_BENCH_EDGE_PEER;
    const dir = mkdtempSync(join(tmpdir(), 'spinal-edge-cpu-'));
    const kids: ChildProcess[] = [];
    const killAll = (): void => { for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL'); };
    process.once('exit', killAll);
    const brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1', 'r2'], backend: new ReferenceBackend(), planValidityMs: 2000 });
    const broker = await EmbeddedBroker.start({ ...ACCOUNTS });
    try {
      const daemons = [await startRobot('this build', cli, 'r1', dir, brain.port, broker.url, kids)];
      if (peerDir !== undefined && peerDir !== '') daemons.push(await startRobot(`peer (${peerDir})`, join(resolve(peerDir), 'bin', 'spinal.js'), 'r2', dir, brain.port, broker.url, kids));
      // Warm-up: start-up, handshake, JIT, first plans.
      await new Promise((r) => setTimeout(r, 8000));
      const figs = await measure(daemons, () => new Promise((r) => setTimeout(r, windowS * 1000)));
      const mine = figs[0] as Figures;
      const peer = figs[1];
      const rows: (string | number)[][] = [
        ['CPU, % of one core', ...figs.map((f) => f.cpuPct)],
        ['allocated, MB/s (young generation growth between GCs, all threads)', ...figs.map((f) => f.allocMbS)],
        ['  of which the thread allocating most, MB/s', ...figs.map((f) => f.topIsolateMbS)],
        ['scavenges per second', ...figs.map((f) => f.scavengesS)],
        ['GCs of any kind in the window', ...figs.map((f) => f.gcs)],
      ];
      return {
        scenario: 'edge-cpu',
        title: `spinal edge (compiled) over ${windowS} s: 1 kHz STATE, 500 Hz control (IDLE: hold commands), 10 Hz observations, 20 Hz telemetry${peer ? '; two daemons side by side, each with its own virtual firmware' : ''}`,
        columns: ['figure', ...daemons.map((d) => d.name)],
        rows,
        summary: {
          cpu_pct_one_core: mine.cpuPct, goal_cpu_le_10pct: mine.cpuPct <= 10, alloc_mb_per_s: mine.allocMbS, scavenges_per_s: mine.scavengesS,
          ...(peer ? { peer_cpu_pct_one_core: peer.cpuPct, peer_alloc_mb_per_s: peer.allocMbS, cpu_ratio_peer_over_this: peer.cpuPct / mine.cpuPct } : {}),
        },
        notes: ['the machine is shared with other work (the sims and this process run beside the daemons): CPU is each daemon\'s own, but scheduling delays are not'],
      };
    } finally {
      for (const k of kids) await reap(k);
      process.off('exit', killAll);
      await brain.stop();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
