/**
 * The broker under fleet load: ROBOTS simulated robots (default 1000) each publishing the real
 * state summary at RATE_HZ (default 20, QoS 0), its brief (1 Hz) and a fleet-wide safety event
 * every EVENT_PERIOD_MS (QoS 1), into the embedded broker (aedes, alone in a child process) and
 * into Mosquitto, one after the other, with a dashboard-like subscriber and an operator
 * e-stopping one robot every ESTOP_PROBE_MS. The subscriber takes the whole fleet
 * (`spinal/v1/<fleet>/#`, mode `fleet`) or what the dashboard's overview takes (briefs, status,
 * events: mode `overview`). Reported per broker and mode: messages published and delivered to
 * the subscriber per second, the subscriber's lag (the message's `at` to receipt), e-stop latency
 * (operator publish to the robot client's receipt) and e-stops never received, the broker's CPU
 * (of one core) and resident memory read from /proc, and connections the broker closed.
 *
 * Options (environment): SPINAL_BENCH_LOAD_S (seconds of measured load, default 15),
 * SPINAL_BENCH_ROBOTS, SPINAL_BENCH_RATE_HZ, SPINAL_BENCH_BROKERS ("embedded,mosquitto"),
 * SPINAL_BENCH_MODES ("fleet,overview"), SPINAL_BENCH_PUBLISHERS (robot processes, default 2).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMosquitto, MosquittoProcess } from '../../edge/mqtt/broker/mosquitto-process.js';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import type { ChildStats, FromChild, ToChild } from './broker-load-child.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';
import { benchChildEntry } from './child-entry.js';

const LOAD_S = Number(process.env['SPINAL_BENCH_LOAD_S'] ?? '15');
const ROBOTS = Number(process.env['SPINAL_BENCH_ROBOTS'] ?? '1000');
const RATE_HZ = Number(process.env['SPINAL_BENCH_RATE_HZ'] ?? '20');
const BROKERS = (process.env['SPINAL_BENCH_BROKERS'] ?? 'embedded,mosquitto').split(',');
const PUBLISHERS = Number(process.env['SPINAL_BENCH_PUBLISHERS'] ?? '2');
/** The embedded broker's deliveryConcurrency; unset: its default. */
const CONCURRENCY = process.env['SPINAL_BENCH_AEDES_CONCURRENCY'];
const MODES = (process.env['SPINAL_BENCH_MODES'] ?? 'fleet,overview').split(',') as ('fleet' | 'overview')[];
const EVENT_PERIOD_MS = 100;
const ESTOP_PROBE_MS = 250;
const WARMUP_MS = 2000;
const FLEET = 'load';
const OPERATOR = { name: 'op', password: 'op-secret' };
const VIEWER = { name: 'dash', password: 'dash-secret' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const childCommand = (): { path: string; execArgv: string[] } => benchChildEntry('broker-load-child');

/** One tethered child of broker-load-child.ts, in the role of its first message. */
class LoadChild {
  private exited: string | null = null;
  private constructor(readonly child: ChildProcess, readonly url: string | undefined) {
    child.once('exit', (code, signal) => { this.exited = `a load process exited (${signal ?? code})`; });
  }

  static start(first: ToChild, timeoutMs = 120_000): Promise<LoadChild> {
    const { path, execArgv } = childCommand();
    const child = spawnNodeChild([...execArgv, path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${first.type} process not ready within ${timeoutMs} ms`)); }, timeoutMs);
      const onExit = (code: number | null): void => { clearTimeout(timer); reject(new Error(`the ${first.type} process exited with code ${code} before it was ready`)); };
      child.once('exit', onExit);
      const onMessage = (m: FromChild): void => {
        if (m.type === 'error') { clearTimeout(timer); child.kill('SIGKILL'); reject(new Error(`${first.type} process: ${m.message}`)); }
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(new LoadChild(child, m.url));
      };
      child.on('message', onMessage);
      child.send(first);
    });
  }

  send(m: ToChild): void {
    if (!this.exited) this.child.send(m);
  }

  stats(timeoutMs = 30_000): Promise<ChildStats> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.child.off('message', on); reject(new Error(`no stats within ${timeoutMs} ms`)); }, timeoutMs);
      const on = (m: FromChild): void => {
        if (m.type !== 'stats') return;
        clearTimeout(timer);
        this.child.off('message', on);
        resolve(m.stats);
      };
      this.child.on('message', on);
      this.child.send({ type: 'stats' } satisfies ToChild);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => { clearTimeout(t); resolve(); });
      this.child.send({ type: 'quit' } satisfies ToChild);
    });
  }
}

/** CPU time (user + system, seconds) and resident memory (bytes) of a process, from /proc. */
function procUsage(pid: number): { cpuS: number; rss: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = 100; // USER_HZ on Linux
    const cpuS = (Number(f[11]) + Number(f[12])) / tick;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, rss: m ? Number(m[1]) * 1024 : Number.NaN };
  } catch {
    return { cpuS: Number.NaN, rss: Number.NaN };
  }
}

interface Figures {
  broker: string;
  mode: string;
  publishedPerS: number;
  expectedPerS: number;
  duePerS: number;
  deliveredPerS: number;
  lag: ReturnType<typeof stats>;
  estop: ReturnType<typeof stats>;
  probesSent: number;
  probesLost: number;
  cpuPct: number;
  rssMb: number;
  skipped: number;
  heldBack: number;
  brokerSkipped: number;
  brokerLoopP99: number;
  clientLoopP99: number;
  closes: number;
  load: number;
}

async function measure(kind: string, mode: 'fleet' | 'overview'): Promise<Figures> {
  const ids = Array.from({ length: ROBOTS }, (_, i) => `robot${i + 1}`);
  const accounts = { fleet: FLEET, robots: ids.map((id) => ({ id, password: `${id}-secret` })), operators: [OPERATOR], viewers: [VIEWER] };
  const children: LoadChild[] = [];
  let mosquitto: MosquittoProcess | null = null;
  let dir: string | null = null;
  try {
    let url: string;
    let pid: number;
    if (kind === 'embedded') {
      const b = await LoadChild.start({ type: 'broker', accounts, ...(CONCURRENCY !== undefined ? { deliveryConcurrency: Number(CONCURRENCY) } : {}) });
      children.push(b);
      url = b.url ?? '';
      pid = b.child.pid ?? 0;
    } else {
      dir = mkdtempSync(join(tmpdir(), 'spinal-load-mosquitto-'));
      mosquitto = await MosquittoProcess.start({ ...accounts, dir, persistence: false });
      url = mosquitto.url;
      pid = mosquitto.pid ?? 0;
    }
    const sub = await LoadChild.start({ type: 'subscriber', url, fleet: FLEET, viewer: VIEWER, mode });
    children.push(sub);
    const per = Math.ceil(ROBOTS / PUBLISHERS);
    const pubs = await Promise.all(Array.from({ length: PUBLISHERS }, (_, k) => LoadChild.start({
      type: 'robots',
      config: { url, fleet: FLEET, from: k * per, to: Math.min(ROBOTS, (k + 1) * per), rateHz: RATE_HZ, eventPeriodMs: EVENT_PERIOD_MS * PUBLISHERS, estopProbeMs: ESTOP_PROBE_MS * PUBLISHERS, operator: OPERATOR },
    })));
    children.push(...pubs);
    for (const p of pubs) p.send({ type: 'load', on: true });
    await sleep(WARMUP_MS);
    const before = await Promise.all(children.map((c) => c.stats()));
    const u0 = procUsage(pid);
    const t0 = performance.now();
    let rss = u0.rss;
    let load = 0;
    for (let s = 0; s < LOAD_S; s++) {
      await sleep(1000);
      const u = procUsage(pid);
      if (!(u.rss <= rss)) rss = u.rss;
      load = Math.max(load, loadavg()[0] ?? 0);
    }
    const after = await Promise.all(children.map((c) => c.stats()));
    const u1 = procUsage(pid);
    const seconds = (performance.now() - t0) / 1000;
    for (const p of pubs) p.send({ type: 'load', on: false });
    // E-stops still on their way count as received if they arrive within 10 s of the load's end.
    let totals = after;
    for (let waited = 0; waited < 10_000; waited += 500) {
      if (totals.reduce((a, s) => a + s.probesSent - s.probesGot, 0) <= 0) break;
      await sleep(500);
      totals = await Promise.all(children.map((c) => c.stats()));
    }
    const delta = (k: 'published' | 'briefs' | 'received' | 'events' | 'skipped' | 'closes' | 'probesSent' | 'heldBack' | 'brokerSkipped', list: ChildStats[] = after, base: ChildStats[] = before): number => list.reduce((a, s, i) => a + s[k] - (base[i]?.[k] ?? 0), 0);
    const subIndex = children.indexOf(sub);
    const published = delta('published');
    const events = delta('events');
    const briefs = delta('briefs');
    // What the subscriber should get of what was published: everything, or the briefs and events.
    const due = mode === 'fleet' ? published + briefs + events : briefs + events;
    return {
      broker: kind,
      mode,
      publishedPerS: (published + briefs + events) / seconds,
      duePerS: due / seconds,
      expectedPerS: ROBOTS * (RATE_HZ + 1) + 1000 / EVENT_PERIOD_MS,
      deliveredPerS: ((after[subIndex]?.received ?? 0) - (before[subIndex]?.received ?? 0)) / seconds,
      lag: stats(after[subIndex]?.lagMs ?? []),
      estop: stats(after.flatMap((s) => s.estopMs)),
      probesSent: delta('probesSent'),
      probesLost: totals.reduce((a, s) => a + s.probesSent - s.probesGot, 0),
      cpuPct: ((u1.cpuS - u0.cpuS) / seconds) * 100,
      rssMb: rss / 2 ** 20,
      skipped: delta('skipped'),
      heldBack: delta('heldBack'),
      brokerSkipped: delta('brokerSkipped'),
      brokerLoopP99: kind === 'embedded' ? after[0]?.loopP99Ms ?? Number.NaN : Number.NaN,
      clientLoopP99: Math.max(...after.filter((_, i) => kind !== 'embedded' || i > 0).map((s) => s.loopP99Ms)),
      closes: after.reduce((a, s) => a + s.closes, 0),
      load,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await mosquitto?.stop();
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: 'broker-load',
  description: `${ROBOTS} robots x ${RATE_HZ} Hz state summaries + events into the embedded broker and Mosquitto, a fleet-wildcard subscriber, e-stop latency under load`,
  async run(): Promise<BenchResult> {
    const rows: Cell[][] = [];
    const summary: Record<string, number | string | boolean> = {};
    const notes: string[] = [];
    for (const mode of MODES) {
      for (const kind of BROKERS) {
        if (kind === 'mosquitto' && findMosquitto() === null) { notes.push('mosquitto not installed: its rows are missing'); continue; }
        const f = await measure(kind, mode);
        const key = `${kind}/${mode}`;
        rows.push([
          key, f.publishedPerS, f.deliveredPerS, (100 * f.deliveredPerS) / f.duePerS, f.lag.median, f.lag.p99, f.estop.median, f.estop.p99, f.estop.n, f.probesLost,
          f.cpuPct, f.rssMb, f.brokerLoopP99, f.clientLoopP99, f.skipped, f.heldBack, f.brokerSkipped, f.closes, f.load,
        ]);
        summary[`${key} delivered %`] = (100 * f.deliveredPerS) / f.duePerS;
        summary[`${key} subscriber lag p99 ms`] = f.lag.p99;
        summary[`${key} e-stop p50 ms`] = f.estop.median;
        summary[`${key} e-stop p99 ms`] = f.estop.p99;
        summary[`${key} e-stops never received`] = f.probesLost;
        summary[`${key} publishers kept the rate`] = f.publishedPerS >= 0.95 * f.expectedPerS;
      }
    }
    notes.push(`${LOAD_S} s measured after ${WARMUP_MS / 1000} s of warm-up, ${PUBLISHERS} publisher processes, on ${cpus().length} cores shared with other work (load average column: the 1-minute peak during the run)`);
    notes.push('published/s counts state summaries, briefs and events as sent; delivered % is what the subscriber received of what its subscription covers');
    notes.push('late skips: summaries a publisher skipped because it ran late; held back: summaries not sent because the robot connection was backed up (the edge skips those too); broker skipped: QoS 0 messages the embedded broker did not send to a subscriber that fell behind');
    notes.push('loop p99: event-loop delay p99 of the embedded broker process and of the most delayed client process (publishers and subscriber) in the window: a client that is late itself inflates the e-stop and lag columns');
    notes.push('e-stop columns: latency of the probes received in the measured window; e-stops lost: sent during the run and not received 10 s after the load stopped');
    return {
      scenario: 'broker-load', title: `broker under fleet load: ${ROBOTS} robots x ${RATE_HZ} Hz`,
      columns: ['broker/subscriber', 'published/s', 'delivered/s', 'delivered %', 'lag p50 ms', 'lag p99 ms', 'e-stop p50 ms', 'e-stop p99 ms', 'e-stops', 'e-stops lost', 'broker CPU %', 'broker RSS MB', 'broker loop p99 ms', 'client loop p99 ms', 'late skips', 'held back', 'broker skipped', 'closes', 'load avg'],
      rows, summary, notes,
    };
  },
};
