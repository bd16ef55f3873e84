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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** "Scavenge 5.2 (7.1) -> 4.3 (8.1) MB" lines of --trace-gc: heap MB before and after, time ms. */
interface Gc { atMs: number; kind: string; before: number; after: number }
function parseGc(line: string): Gc | null {
  const m = /(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-sweep)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+)/.exec(line);
  return m ? { atMs: Number(m[1]), kind: m[2] as string, before: Number(m[3]), after: Number(m[4]) } : null;
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

export const scenario: Scenario = {
  name: 'edge-cpu',
  description: 'edge daemon CPU (% of one core) and allocation rate at 1 kHz STATE, 500 Hz control, 10 Hz observations, 20 Hz telemetry, no inference',
  async run(): Promise<BenchResult> {
    const windowS = process.env.SPINAL_BENCH_QUICK === '1' ? 10 : 30;
    const root = repoRoot();
    const cli = join(root, 'dist', 'bin', 'spinal.js');
    const dir = mkdtempSync(join(tmpdir(), 'spinal-edge-cpu-'));
    const kids: ChildProcess[] = [];
    const killAll = (): void => { for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL'); };
    process.once('exit', killAll);
    const brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: new ReferenceBackend(), planValidityMs: 2000 });
    const broker = await EmbeddedBroker.start({ ...ACCOUNTS });
    try {
      const tty = join(dir, 'robot.tty');
      const sim = spawn(process.execPath, [cli, 'sim', '--profile', 'arm6-gripper', '--link', tty, '--rate', '1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
      kids.push(sim);
      await new Promise<void>((resolve, reject) => {
        sim.stdout?.once('data', () => resolve());
        sim.once('exit', (c) => reject(new Error(`spinal sim exited (${String(c)})`)));
      });
      writeFileSync(join(dir, 'pw'), `${PASSWORDS.r1 ?? ''}\n`);
      writeFileSync(join(dir, 'edge.json'), JSON.stringify({
        robot: { id: 'r1', profile: 'arm6-gripper' },
        serial: { path: tty, stateRateHz: 1000 },
        control: { rateHz: 500, policy: 'crossfade', stepMs: 20 },
        cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
        mqtt: { url: broker.url, fleet: FLEET, passwordFile: join(dir, 'pw'), telemetryHz: 20 },
        log: { level: 'warn' },
      }));
      const gcs: Gc[] = [];
      // SPINAL_BENCH_EDGE_NODE_ARGS: more node flags for the daemon, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
      const extra = (process.env.SPINAL_BENCH_EDGE_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
      const edge = spawn(process.execPath, ['--trace-gc', ...extra, cli, 'edge', '--config', join(dir, 'edge.json')], { stdio: ['ignore', 'pipe', 'ignore'] });
      kids.push(edge);
      let pending = '';
      edge.stdout?.on('data', (d: Buffer) => {
        pending += d.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) { const g = parseGc(l); if (g) gcs.push(g); }
      });
      // Warm-up: start-up, handshake, JIT, first plans.
      await new Promise((r) => setTimeout(r, 8000));
      if (edge.exitCode !== null) throw new Error(`spinal edge exited (${edge.exitCode})`);
      const pid = edge.pid as number;
      const t0 = performance.now(), c0 = cpuTicks(pid), g0 = gcs.length;
      await new Promise((r) => setTimeout(r, windowS * 1000));
      const t1 = performance.now(), c1 = cpuTicks(pid);
      const window = gcs.slice(Math.max(1, g0));
      let allocatedMb = 0;
      for (let i = 0; i < window.length; i++) {
        const g = window[i] as Gc;
        const prev = gcs[g0 + i - 1] as Gc | undefined;
        if (prev) allocatedMb += Math.max(0, g.before - prev.after);
      }
      const secs = (t1 - t0) / 1000;
      const cpuPct = ((c1 - c0) / CLK_TCK / secs) * 100;
      const scavenges = window.filter((g) => g.kind === 'Scavenge' || g.kind === 'Minor Mark-Sweep').length;
      return {
        scenario: 'edge-cpu',
        title: `spinal edge (compiled) over ${windowS} s: 1 kHz STATE, 500 Hz control (IDLE: hold commands), 10 Hz observations, 20 Hz telemetry`,
        columns: ['figure', 'value'],
        rows: [
          ['CPU, % of one core', cpuPct],
          ['allocated, MB/s (young generation growth between GCs)', allocatedMb / secs],
          ['scavenges per second', scavenges / secs],
          ['GCs of any kind in the window', window.length],
        ],
        summary: { cpu_pct_one_core: cpuPct, goal_cpu_le_10pct: cpuPct <= 10, alloc_mb_per_s: allocatedMb / secs, scavenges_per_s: scavenges / secs },
        notes: ['the machine is shared with other work (the sim and this process run beside the daemon): CPU is the daemon\'s own, but scheduling delays are not'],
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
