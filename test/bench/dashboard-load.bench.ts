/**
 * Dashboard under load, in two fleets, one after the other: 100 robots × 20 Hz of state summaries
 * (the page's worst case for plots), and 1000 robots × 1 Hz (its worst case for the overview);
 * each robot publishes its brief beside the state (1 Hz and on change) as the edge does, and one
 * robot's detail (three live uPlot charts) is open. Measured in the page:
 * requestAnimationFrame intervals (frame time), the selected robot's plot lag (at every draw of
 * its plot: page clock − the newest drawn sample's `at`, which the publisher stamps when it sends
 * it; and the same age at every frame), long tasks, the renderer main thread's busy share, and the
 * retained JS heap, DOM nodes and listeners (CDP, after a forced GC) every 10 s.
 *
 * No real robots: an embedded broker (TCP + WebSocket) and the dashboard's HTTP server in this
 * process, and in a child process (dashboard-fleet-child.ts) one MQTT client per robot with its
 * own robot account (the ACL lets robot R publish only its own topics) publishing pre-encoded,
 * schema-valid summaries from one fleet-wide timer, plus one safety event a second fleet-wide, a
 * viewer over WebSocket that takes what the page takes and counts it (its peer in Node: a
 * subscriber of the whole fleet's state would itself hold back the broker's one delivery queue),
 * and the e-stop prober below. The CPU each process used is reported: on two cores the page
 * competes with both.
 *
 * Peers, same run: an idle baseline with the same robots known and online but no telemetry
 * flowing, measured for IDLE_S before the load starts; and, with SPINAL_BENCH_DASHBOARD_BASELINE
 * set to a git revision, that revision's page (cloud/dashboard/public from `git archive`) measured
 * under the same fleets just before this one (after it with SPINAL_BENCH_DASHBOARD_BASELINE_LAST=1),
 * each on a fresh broker and fleet.
 *
 * Also probed in both phases: an operator's e-stop to one robot every ESTOP_PROBE_MS, timed from
 * publish to the robot's client (the broker's command path while the dashboard is being fed).
 * SPINAL_BENCH_DASHBOARD_TRACE=1 records a Chromium performance trace and CPU profiles of the
 * page and its worker (TRACE_S, in the middle of the load) and writes their summary beside the
 * results (page-trace.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { DashboardServer } from '../../cloud/dashboard/dashboard-server.js';
import { DashboardUsers } from '../../cloud/dashboard/users.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { sleep } from '../e2e/link-harness.js';
import { launchChromium } from './browser.js';
import { FleetProcess } from './dashboard-fleet.js';
import { tracePage, type TraceSummary } from './page-trace.js';
import { repoRoot, stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const DURATION_S = Number(process.env.SPINAL_BENCH_DASHBOARD_S ?? 300);
const IDLE_S = Number(process.env.SPINAL_BENCH_DASHBOARD_IDLE_S ?? 30);
const SAMPLE_S = 10;
/** The fleets measured, in order; each its own broker, page and idle baseline. */
const ALL_LOADS: readonly LoadSpec[] = [
  { robots: 100, rateHz: 20, goalP95Ms: 1000 / 30 },
  { robots: 1000, rateHz: 1, goalP95Ms: 50 },
];
/** SPINAL_BENCH_DASHBOARD_FLEETS=100x20 (comma-separated) measures only those. */
const ONLY = (process.env.SPINAL_BENCH_DASHBOARD_FLEETS ?? '').split(',').filter(Boolean);
const LOADS = ALL_LOADS.filter((l) => ONLY.length === 0 || ONLY.includes(`${l.robots}x${l.rateHz}`));
interface LoadSpec { robots: number; rateHz: number; goalP95Ms: number }
/** The selected robot's plot may lag the robot by less than this (the issue's goal). */
const GOAL_LAG_MS = 500;
/** This bench on the same machine in earlier rounds (100 × 20 Hz), with its publishers in the broker's process. */
const PREVIOUS = 'before the brief, virtual rows and decimation: loaded 16.7/150/250 ms, plot up to 20 s behind; with them (publishers still beside the broker, plot age per frame): 16.7/50/133 ms, plot age p50/p95 135 ms/1.9 s';
const EVENT_PERIOD_MS = 1000;
/** The heap (floor) at the end may exceed the one at the reference point by this factor and still be "bounded". */
const HEAP_GROWTH_LIMIT = 1.2;
/** …or by this much, whichever is more: a few-MiB heap moves by more than 20% with the messages in flight. */
const HEAP_SLACK = 1024 * 1024;
/** A worker drowning in messages answers devtools late; its heap sample is then skipped (NaN), not fatal. */
const WORKER_CALL_TIMEOUT_MS = 5000;
/** Memory is judged on the lowest of this many consecutive samples (see the verdict). */
const FLOOR_OF = 3;
/** Lines the page's event log keeps (EventLogView's default) and DOM nodes per line (li, time, two text nodes). */
const EVENT_LOG_LINES = 200;
const NODES_PER_EVENT_LINE = 4;
/** An operator e-stop to one robot (round robin) this often, idle and loaded: the broker's command path under the dashboard's load. */
const ESTOP_PROBE_MS = 5000;
/** Teardown waits at most this long for the broker's queue to drain into the Node viewer (see drain()). */
const DRAIN_MS = 120_000;
/** A page/CDP call unanswered for this long fails its sample (the window then spans to the next sample that answers). */
const CALL_TIMEOUT_MS = 20_000;
/** This many failed samples in a row end the phase early, with what was measured so far. */
const MAX_MISSED_IN_A_ROW = 3;
/** Frame ring in the page: a power of two, far more than one 10 s window of frames (read out at every sample). */
const RING = 1 << 14;
const FLEET = 'lab';
const SELECTED = 'robot1';
const MIB = 1024 * 1024;

const OPERATOR = { name: 'olga', password: 'olga-secret' };
const VIEWER = { name: 'vic', password: 'vic-secret' };
/** A git revision whose page is measured first, as the peer (absent: this tree's page only). */
const BASELINE = process.env.SPINAL_BENCH_DASHBOARD_BASELINE ?? '';
/** SPINAL_BENCH_DASHBOARD_BASELINE_LAST=1: this tree's page first, then the baseline's. */
const BASELINE_LAST = process.env.SPINAL_BENCH_DASHBOARD_BASELINE_LAST === '1';
/**
 * With a baseline: this many rounds of (baseline, this tree) per fleet, alternating, pooled in the
 * summary: on a shared machine whose load drifts over minutes, one measurement of each, one after
 * the other, compares two machines more than two pages.
 */
const ROUNDS = Math.max(1, Number(process.env.SPINAL_BENCH_DASHBOARD_ROUNDS ?? 1));
const TRACE = process.env.SPINAL_BENCH_DASHBOARD_TRACE === '1';
const TRACE_S = 10;

function withTimeout<T>(what: string, p: Promise<T>, ms = CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** What the page reports at each sample: cheap reads, and the window's frame intervals (copied out once per window, not per frame). */
interface PageProbe {
  n: number;
  /** rAF intervals (ms) since the previous probe, oldest first. */
  frames: number[];
  /** The selected robot's plot age (ms) at each of those frames: page clock − newest drawn sample's `at` (NaN before its first sample). */
  lags: number[];
  /** The plot lag (ms) at each draw of the plot since the previous probe: page clock when the page set the newest sample's `at` on the plot − that `at`. */
  draws: number[];
  longN: number;
  longMs: number;
  samples: number;
  lagMs: number;
  seq: number;
  online: number;
  rows: number;
  eventLines: number;
}

interface Sample {
  phase: 'idle' | 'load';
  /** Seconds since the phase started. */
  t: number;
  wallMs: number;
  probe: PageProbe;
  heap: number;
  nodes: number;
  listeners: number;
  taskS: number;
  scriptS: number;
  styleS: number;
  layoutS: number;
  viewerState: number;
  viewerBriefs: number;
  viewerEvents: number;
  published: number;
  /** This process's V8 heap in use (broker, dashboard server; not collected first): where a backlog the page cannot take accumulates. */
  nodeHeap: number;
  /** CPU time (µs) used so far by this process (broker, dashboard server, page driver) and by the fleet process (publishers, viewer, prober). */
  benchCpuUs: number;
  fleetCpuUs: number;
  /** JS heap in use of the page's workers (the telemetry worker), after a forced GC in each; NaN when the page has none. */
  workerHeap: number;
  /** Resident memory of all Chromium renderer processes (the page, its workers, messages queued for them). */
  rendererRss: number;
  /** Cumulative CPU seconds of every Chromium process (browser, renderers, network service, GPU). */
  chromiumCpuS: number;
  /** E-stop probes sent so far, and the delivery times (ms) of those that arrived. */
  probesSent: number;
  probeMs: number[];
  /** Publisher ticks skipped so far (late by more than a period), and briefs published. */
  skipped: number;
  briefs: number;
}

/**
 * The frame recorder: every rAF interval, and the plot's age at that frame (page clock − the newest
 * plotted sample's time, from the detail's data-last-t), into preallocated rings; long tasks summed.
 * The draw recorder: each time the page sets data-last-t (it does so as it hands the charts their
 * new columns), page clock − that time. The sample's time is the publisher's wall clock when it
 * sent it (same machine, same clock), so this is the lag from publish to plot.
 */
const INSTALL = `(() => {
  const N = ${RING};
  const b = { d: new Float64Array(N), lag: new Float64Array(N), n: 0, read: 0, last: -1, longN: 0, longMs: 0, draw: new Float64Array(N), drawN: 0, drawRead: 0, drawnT: null };
  window.__bench = b;
  const detail = document.getElementById('detail');
  new MutationObserver(() => {
    const lastT = detail.dataset.lastT;
    // A redraw of the sample already drawn is not a new one.
    if (lastT === undefined || lastT === 'null' || lastT === b.drawnT) return;
    b.drawnT = lastT;
    b.draw[b.drawN & (N - 1)] = Date.now() - Number(lastT) * 1000;
    b.drawN++;
  }).observe(detail, { attributes: true, attributeFilter: ['data-last-t'] });
  const loop = (t) => {
    if (b.last >= 0) {
      const lastT = detail.dataset.lastT;
      b.lag[b.n & (N - 1)] = lastT === undefined || lastT === 'null' ? NaN : Date.now() - Number(lastT) * 1000;
      b.d[b.n & (N - 1)] = t - b.last;
      b.n++;
    }
    b.last = t;
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) { b.longN++; b.longMs += e.duration; } }).observe({ type: 'longtask' });
  return PerformanceObserver.supportedEntryTypes.includes('longtask');
})()`;

const PROBE = `(() => {
  const b = window.__bench;
  const d = document.getElementById('detail');
  let seq = NaN;
  for (const dt of document.querySelectorAll('#detail-stats dt')) if (dt.textContent === 'summary seq') seq = Number(dt.nextElementSibling && dt.nextElementSibling.textContent);
  const lastT = d && d.dataset.lastT !== undefined ? Number(d.dataset.lastT) : NaN;
  const frames = [], lags = [];
  for (let i = Math.max(b.read, b.n - ${RING}); i < b.n; i++) { frames.push(b.d[i & ${RING - 1}]); lags.push(b.lag[i & ${RING - 1}]); }
  b.read = b.n;
  const draws = [];
  for (let i = Math.max(b.drawRead, b.drawN - ${RING}); i < b.drawN; i++) draws.push(b.draw[i & ${RING - 1}]);
  b.drawRead = b.drawN;
  const fleet = document.getElementById('fleet');
  return {
    n: b.n, frames, lags, draws, longN: b.longN, longMs: b.longMs,
    samples: d && d.dataset.samples !== undefined ? Number(d.dataset.samples) : NaN,
    lagMs: Date.now() - lastT * 1000, seq,
    // The table builds only the rows in view: it keeps the counts of all on itself.
    online: Number(fleet.dataset.online ?? document.querySelectorAll('#fleet tr[data-presence="online"]').length),
    rows: Number(fleet.dataset.rows ?? document.querySelectorAll('#fleet tbody tr').length),
    eventLines: document.querySelectorAll('#events li:not(.empty)').length,
  };
})()`;

/** Nearest-rank quantile (as harness.stats) of an ascending array. */
function q(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  return n === 0 ? Number.NaN : (sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number);
}

interface FrameStats { n: number; p50: number; p95: number; p99: number; max: number; fps: number }
function frameStats(d: ArrayLike<number>): FrameStats {
  const s = Float64Array.from(d).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return { n: s.length, p50: q(s, 0.5), p95: q(s, 0.95), p99: q(s, 0.99), max: s.length ? (s[s.length - 1] as number) : Number.NaN, fps: s.length ? (1000 * s.length) / sum : Number.NaN };
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += ((xs[i] as number) - mx) * ((ys[i] as number) - my); den += ((xs[i] as number) - mx) ** 2; }
  return num / den;
}

interface PageVariant {
  /** How rows and figures name this page ('this tree', or the baseline's revision). */
  label: string;
  /** The folder of the page's files; undefined: this tree's cloud/dashboard/public. */
  assetsDir?: string;
}

/** A measurement's raw figures, pooled across rounds by run(). */
interface Raw { frames: number[]; draws: number[]; ages: number[]; chromiumCpuPct: number; loadAvg: number }

async function runLoad(spec: LoadSpec, variant: PageVariant): Promise<{ result: BenchResult; trace: TraceSummary | null; raw: Raw }> {
  const { robots: ROBOTS, rateHz: RATE_HZ } = spec;
  const ids = Array.from({ length: ROBOTS }, (_, i) => `robot${i + 1}`);
  const accounts = { fleet: FLEET, robots: ids.map((id) => ({ id, password: `${id}-secret` })), operators: [OPERATOR], viewers: [VIEWER] };
  const load0 = loadavg();
  let broker: EmbeddedBroker | null = null;
  let dashboard: DashboardServer | null = null;
  let browser: Browser | null = null;
  let fleet: FleetProcess | null = null;
  let trace: TraceSummary | null = null;
  try {
    broker = await EmbeddedBroker.start({ ...accounts, host: '127.0.0.1', port: 0, ws: { port: 0 } });
    const wsUrl = broker.wsUrl ?? '';
    dashboard = await DashboardServer.start({ fleet: FLEET, robots: ids, users: new DashboardUsers(accounts), mqttUrl: wsUrl, brain: null, ...(variant.assetsDir !== undefined ? { assetsDir: variant.assetsDir } : {}) });
    fleet = await FleetProcess.start({
      url: broker.url, wsUrl, fleet: FLEET, robots: ROBOTS, rateHz: RATE_HZ, operator: OPERATOR, viewer: VIEWER, estopProbeMs: ESTOP_PROBE_MS, selected: SELECTED, eventPeriodMs: EVENT_PERIOD_MS,
    });
    const fleetProc = fleet;
    const { quadBytes, armBytes, briefBytes } = fleet.sizes;

    browser = await launchChromium();
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(dashboard.url);
    await page.fill('#login-user', OPERATOR.name);
    await page.fill('#login-password', OPERATOR.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-mqtt="connected"]', { timeout: 15_000 });
    await page.waitForSelector(`#fleet tr[data-robot="${SELECTED}"]`, { timeout: 10_000 });
    await page.click(`#fleet tr[data-robot="${SELECTED}"]`);
    await page.waitForSelector('#detail:not([hidden])');
    const cdp: CDPSession = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const longTasksSupported = await page.evaluate<boolean>(INSTALL);
    // The page's dedicated workers are other V8 isolates: Performance.getMetrics of the page does
    // not count them. Attach to each (non-flattened sessions: playwright's CDPSession speaks to one
    // target, so worker commands travel in Target.sendMessageToTarget).
    const workerSessions: string[] = [];
    let workerMissed = 0;
    const pendingWorker = new Map<number, (result: Record<string, unknown>) => void>();
    let workerCallId = 0;
    cdp.on('Target.attachedToTarget', (ev) => { if (ev.targetInfo.type === 'worker') workerSessions.push(ev.sessionId); });
    cdp.on('Target.detachedFromTarget', (ev) => { const i = workerSessions.indexOf(ev.sessionId ?? ''); if (i >= 0) workerSessions.splice(i, 1); });
    cdp.on('Target.receivedMessageFromTarget', (ev) => {
      const msg = JSON.parse(ev.message) as { id?: number; result?: Record<string, unknown> };
      const done = msg.id === undefined ? undefined : pendingWorker.get(msg.id);
      if (done && msg.id !== undefined) { pendingWorker.delete(msg.id); done(msg.result ?? {}); }
    });
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    const askWorker = (sessionId: string, method: string, params: object = {}): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
      const id = ++workerCallId;
      pendingWorker.set(id, resolve);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
    const browserCdp = await browser.newBrowserCDPSession();
    const rssOf = (pid: number): number => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : Number.NaN;
      } catch {
        return Number.NaN; // not Linux, or the process is gone
      }
    };
    await sleep(2000);

    const sample = async (phase: Sample['phase'], phaseStartMs: number): Promise<Sample> => {
      const wallMs = performance.now();
      const probe = await withTimeout('page probe', page.evaluate<PageProbe>(PROBE));
      const f = await fleetProc.stats();
      const own = process.cpuUsage();
      const counts = {
        viewerState: f.viewerState, viewerBriefs: f.viewerBriefs, viewerEvents: f.viewerEvents, published: f.published, nodeHeap: process.memoryUsage().heapUsed, probesSent: f.probesSent, probeMs: f.probeMs,
        benchCpuUs: own.user + own.system, fleetCpuUs: f.cpuUs, skipped: f.skipped, briefs: f.briefs,
      };
      // A full GC first, so the heap figure is what the page retains, not garbage awaiting collection.
      await withTimeout('collectGarbage', cdp.send('HeapProfiler.collectGarbage'));
      const metrics = (await withTimeout('getMetrics', cdp.send('Performance.getMetrics'))).metrics;
      const m = (name: string): number => metrics.find((x) => x.name === name)?.value ?? Number.NaN;
      let workerHeap = workerSessions.length === 0 ? Number.NaN : 0;
      try {
        for (const w of [...workerSessions]) {
          await withTimeout('worker collectGarbage', askWorker(w, 'HeapProfiler.collectGarbage'), WORKER_CALL_TIMEOUT_MS);
          workerHeap += Number((await withTimeout('worker getHeapUsage', askWorker(w, 'Runtime.getHeapUsage'), WORKER_CALL_TIMEOUT_MS)).usedSize);
        }
      } catch {
        workerHeap = Number.NaN;
        workerMissed++;
      }
      const procs = (await withTimeout('getProcessInfo', browserCdp.send('SystemInfo.getProcessInfo'))).processInfo;
      const rendererRss = procs.filter((x) => x.type === 'renderer').reduce((a, x) => a + rssOf(x.id), 0);
      const chromiumCpuS = procs.reduce((a, x) => a + x.cpuTime, 0);
      return {
        phase, t: (wallMs - phaseStartMs) / 1000, wallMs, probe,
        heap: m('JSHeapUsedSize'), nodes: m('Nodes'), listeners: m('JSEventListeners'), taskS: m('TaskDuration'), scriptS: m('ScriptDuration'), styleS: m('RecalcStyleDuration'), layoutS: m('LayoutDuration'), workerHeap, rendererRss, chromiumCpuS, ...counts,
      };
    };
    const samples: Sample[] = [];
    let stalled: string | null = null;
    const missed: string[] = [];
    /**
     * Samples at the start, on a SAMPLE_S grid (a sample that runs late skips grid points rather
     * than bunching) and at the end; `atEnd` runs at the end exactly, or at once when the page
     * stops answering, so the phase never outlasts `seconds` because of slow samples. A sample
     * that fails is recorded in `missed` and the next one covers its window.
     */
    const runPhase = async (phase: Sample['phase'], seconds: number, atEnd: () => void = () => undefined): Promise<void> => {
      const start = performance.now();
      const end = start + seconds * 1000;
      const endTimer = setTimeout(atEnd, seconds * 1000);
      let inARow = 0;
      const take = async (): Promise<void> => {
        try {
          samples.push(await withTimeout(`${phase} sample`, sample(phase, start), 3 * CALL_TIMEOUT_MS));
          inARow = 0;
        } catch (e) {
          missed.push(`${phase} ${((performance.now() - start) / 1000).toFixed(0)} s: ${(e as Error).message}`);
          if (++inARow >= MAX_MISSED_IN_A_ROW) throw e;
        }
      };
      try {
        await take();
        while (performance.now() < end - 1) {
          const now = performance.now();
          await sleep(Math.max(0, Math.min(end, start + Math.ceil((now - start + 1) / (SAMPLE_S * 1000)) * SAMPLE_S * 1000) - now));
          await take();
        }
      } catch (e) {
        stalled = `${phase} phase stopped at ${((performance.now() - start) / 1000).toFixed(0)} s: ${(e as Error).message}`;
      } finally {
        clearTimeout(endTimer);
        atEnd();
      }
    };

    await runPhase('idle', IDLE_S);
    if (stalled !== null) throw new Error(`the idle page did not answer: ${String(stalled)}`);
    const loadStartLoad = loadavg();
    const loadStart = performance.now();
    fleetProc.load(true);
    const ended = { at: 0, load: loadavg() };
    const stopLoad = (): void => {
      if (ended.at !== 0) return;
      ended.at = performance.now();
      fleetProc.load(false);
      ended.load = loadavg();
    };
    // The trace, when asked for, covers TRACE_S in the middle of the load.
    const traced = !TRACE ? Promise.resolve(null) : sleep(Math.max(0, (DURATION_S - TRACE_S) / 2) * 1000).then(() => {
      const w = workerSessions[0];
      return tracePage({
        browserCdp, pageCdp: cdp, askWorker: w === undefined ? null : (method, params) => askWorker(w, method, params), seconds: TRACE_S,
        traceFile: join(resultsDir(), `dashboard-trace-${ROBOTS}x${RATE_HZ}-${variant.label.replace(/[^\w.-]+/g, '_')}.json`),
      });
    }).catch((e: unknown) => { missed.push(`trace: ${(e as Error).message}`); return null; });
    await runPhase('load', DURATION_S, stopLoad);
    trace = await traced;
    const loadEnd = ended.at;
    const loadEndLoad = ended.load;

    if (samples.filter((x) => x.phase === 'load').length < 2) throw new Error(`no load window measured: ${String(stalled)}`);

    // A window's e-stop probes: the slowest delivered, and how many sent so far are still undelivered.
    const probeCell = (a: Sample, b: Sample): string => {
      const got = b.probeMs.slice(a.probeMs.length);
      const pending = b.probesSent - b.probeMs.length;
      return `${got.length ? Math.max(...got).toFixed(1) : '-'}${pending > 0 ? ` (${pending} pending)` : ''}`;
    };
    const rows: Cell[][] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1] as Sample, b = samples[i] as Sample;
      if (a.phase !== b.phase) continue;
      const dt = (b.wallMs - a.wallMs) / 1000;
      const f = frameStats(b.probe.frames);
      const pageSeq = b.phase === 'load' && Number.isFinite(a.probe.seq) ? (b.probe.seq - a.probe.seq) / dt : Number.NaN;
      rows.push([
        `${b.phase} ${b.t.toFixed(0)} s`, f.n, f.fps, f.p50, f.p95, f.p99,
        b.probe.longN - a.probe.longN, b.probe.longMs - a.probe.longMs, (100 * (b.taskS - a.taskS)) / dt,
        [b.scriptS - a.scriptS, b.styleS - a.styleS, b.layoutS - a.layoutS].map((x) => ((100 * x) / dt).toFixed(0)).join('/'),
        (100 * (b.chromiumCpuS - a.chromiumCpuS)) / dt, (b.benchCpuUs - a.benchCpuUs) / 1e4 / dt, (b.fleetCpuUs - a.fleetCpuUs) / 1e4 / dt,
        b.heap / MIB, b.workerHeap / MIB, b.rendererRss / MIB, b.nodes, b.listeners, b.nodeHeap / MIB,
        (b.published - a.published) / dt, (b.viewerState - a.viewerState) / dt, pageSeq,
        b.phase === 'load' ? frameStats(b.probe.lags.filter(Number.isFinite)).p95 : Number.NaN,
        b.phase === 'load' ? (({ p50, p95 }) => `${p50.toFixed(0)}/${p95.toFixed(0)}`)(frameStats(b.probe.draws)) : '-', b.probe.online, b.probe.eventLines,
        probeCell(a, b),
      ]);
    }
    // A phase's first sample holds the frames from before the phase: not counted.
    const phaseFrames = (phase: Sample['phase']): number[] => samples.filter((x) => x.phase === phase).slice(1).flatMap((x) => x.probe.frames);
    const idle = frameStats(phaseFrames('idle'));
    const loaded = frameStats(phaseFrames('load'));
    const loadSamples = samples.filter((x) => x.phase === 'load');
    const idleSamples = samples.filter((x) => x.phase === 'idle');
    const longOf = (s: Sample[]): { n: number; ms: number } => ({ n: (s[s.length - 1]?.probe.longN ?? 0) - (s[0]?.probe.longN ?? 0), ms: (s[s.length - 1]?.probe.longMs ?? 0) - (s[0]?.probe.longMs ?? 0) });
    const busyOf = (s: Sample[]): number => (100 * ((s[s.length - 1]?.taskS ?? 0) - (s[0]?.taskS ?? 0))) / (((s[s.length - 1]?.wallMs ?? 0) - (s[0]?.wallMs ?? 0)) / 1000);
    rows.push(['idle (all)', idle.n, idle.fps, idle.p50, idle.p95, idle.p99, longOf(idleSamples).n, longOf(idleSamples).ms, busyOf(idleSamples), ...Array<string>(18).fill('-')]);
    rows.push(['loaded (all)', loaded.n, loaded.fps, loaded.p50, loaded.p95, loaded.p99, longOf(loadSamples).n, longOf(loadSamples).ms, busyOf(loadSamples), ...Array<string>(18).fill('-')]);

    // Bounded memory, judged on floors: a sample can catch transient memory (messages the page
    // has received but not handled yet, the latest table redraw's replaced text nodes), which
    // single samples showed as +30% spikes; a leak raises every sample, so it raises the lowest of
    // FLOOR_OF consecutive ones. Bounded: the floor at the end within HEAP_GROWTH_LIMIT of the
    // floor at the reference point (one minute into the load, or half-way on a shorter run), the
    // same for DOM nodes net of the event log (it fills towards its fixed EVENT_LOG_LINES by
    // design), and no more listeners.
    const loadS = (loadEnd - loadStart) / 1000;
    const refT = Math.min(60, loadS / 2);
    const ref = loadSamples.find((s) => s.t >= refT - 1) ?? (loadSamples[0] as Sample);
    const first = loadSamples[0] as Sample;
    const end = loadSamples[loadSamples.length - 1] as Sample;
    const lastHalf = loadSamples.filter((s) => s.t >= loadS / 2 - 1);
    const slopeMbMin = slope(lastHalf.map((s) => s.t / 60), lastHalf.map((s) => s.heap / MIB));
    const heapMax = Math.max(...loadSamples.map((s) => s.heap));
    const nodesAdj = (s: Sample): number => s.nodes - NODES_PER_EVENT_LINE * s.probe.eventLines;
    const refAt = loadSamples.indexOf(ref);
    // NaN samples (a worker that did not answer) are left out; no sample at all gives NaN.
    const floor = (at: number, f: (s: Sample) => number): number => {
      const v = loadSamples.slice(Math.max(0, at - FLOOR_OF + 1), at + 1).map(f).filter((x) => !Number.isNaN(x));
      return v.length === 0 ? Number.NaN : Math.min(...v);
    };
    const within = (f: { ref: number; end: number }, slack: number): boolean => f.end <= Math.max(HEAP_GROWTH_LIMIT * f.ref, f.ref + slack);
    const lastAt = loadSamples.length - 1;
    const heapFloor = { ref: floor(refAt, (s) => s.heap), end: floor(lastAt, (s) => s.heap) };
    const domFloor = { ref: floor(refAt, nodesAdj), end: floor(lastAt, nodesAdj) };
    const workerFloor = { ref: floor(refAt, (s) => s.workerHeap), end: floor(lastAt, (s) => s.workerHeap) };
    const rssFloor = { ref: floor(refAt, (s) => s.rendererRss), end: floor(lastAt, (s) => s.rendererRss) };
    // NaN (no worker, no /proc) compares false: reported as not shown to be bounded.
    const heapOk = within(heapFloor, HEAP_SLACK);
    const workerOk = workerSessions.length === 0 && Number.isNaN(workerFloor.ref) ? true : within(workerFloor, HEAP_SLACK);
    const rssOk = within(rssFloor, 0);
    const domOk = within(domFloor, 0) && end.probe.eventLines <= EVENT_LOG_LINES;
    const listenersOk = end.listeners <= ref.listeners;
    const delivered = (end.viewerState - first.viewerState) / loadS;
    const pub = (end.published - first.published) / loadS;
    const skipped = end.skipped - first.skipped;
    const cpuOf = (f: (s: Sample) => number): number => (f(end) - f(first)) / 1e4 / ((end.wallMs - first.wallMs) / 1000);
    const pageSeqRate = (end.probe.seq - (loadSamples[1]?.probe.seq ?? Number.NaN)) / ((end.wallMs - (loadSamples[1]?.wallMs ?? Number.NaN)) / 1000);
    const probeSummary = (s: Sample[]): string => {
      const got = (s[s.length - 1]?.probeMs ?? []).slice((s[0]?.probeMs ?? []).length);
      const st = stats(got);
      return st.n === 0 ? 'none delivered' : `${st.median.toFixed(1)} / ${st.max.toFixed(1)} (n=${st.n})`;
    };
    const lags = loadSamples.slice(1).map((s) => s.probe.lagMs);
    // The plot's age at every frame of the load (a phase's first sample holds frames from before it), and its lag at every draw.
    const lag = frameStats(loadSamples.slice(1).flatMap((x) => x.probe.lags).filter(Number.isFinite));
    const draw = frameStats(loadSamples.slice(1).flatMap((x) => x.probe.draws));
    const summary: Record<string, number | string | boolean> = {
      'load duration s': loadS,
      'stopped early': stalled ?? 'no',
      'samples missed': missed.length === 0 ? 'none' : missed.join('; '),
      'idle baseline s': IDLE_S,
      'idle frame p50/p95/p99 ms': `${idle.p50.toFixed(1)} / ${idle.p95.toFixed(1)} / ${idle.p99.toFixed(1)}`,
      'loaded frame p50/p95/p99 ms': `${loaded.p50.toFixed(1)} / ${loaded.p95.toFixed(1)} / ${loaded.p99.toFixed(1)}`,
      'loaded/idle p95': loaded.p95 / idle.p95,
      [`loaded p95 <= ${spec.goalP95Ms.toFixed(1)} ms`]: loaded.p95 <= spec.goalP95Ms,
      'plot lag at each draw p50/p95/p99/max ms': `${draw.p50.toFixed(0)} / ${draw.p95.toFixed(0)} / ${draw.p99.toFixed(0)} / ${draw.max.toFixed(0)} (n=${draw.n})`,
      [`plot lag p95 < ${GOAL_LAG_MS} ms`]: draw.p95 < GOAL_LAG_MS,
      'plot age at each frame p50/p95/p99/max ms': `${lag.p50.toFixed(0)} / ${lag.p95.toFixed(0)} / ${lag.p99.toFixed(0)} / ${lag.max.toFixed(0)} (n=${lag.n})`,
      'main-thread heap MiB load start / ref / max / end': `${(first.heap / MIB).toFixed(2)} / ${(ref.heap / MIB).toFixed(2)} (${ref.t.toFixed(0)} s) / ${(heapMax / MIB).toFixed(2)} / ${(end.heap / MIB).toFixed(2)}`,
      'main-thread heap slope over last half MiB/min': slopeMbMin,
      'DOM nodes ref / end (event-log lines)': `${ref.nodes} (${ref.probe.eventLines}) / ${end.nodes} (${end.probe.eventLines})`,
      'listeners ref / end': `${ref.listeners} / ${end.listeners}`,
      [`main-thread heap floor MiB ref / end (min of ${FLOOR_OF} samples)`]: `${(heapFloor.ref / MIB).toFixed(2)} / ${(heapFloor.end / MIB).toFixed(2)}`,
      'DOM nodes net of event log, floor ref / end': `${domFloor.ref} / ${domFloor.end}`,
      'worker heap floor MiB ref / end': `${(workerFloor.ref / MIB).toFixed(2)} / ${(workerFloor.end / MIB).toFixed(2)}${workerMissed > 0 ? ` (${workerMissed} samples unanswered within ${WORKER_CALL_TIMEOUT_MS} ms)` : ''}`,
      'renderer RSS floor MiB ref / end': `${(rssFloor.ref / MIB).toFixed(0)} / ${(rssFloor.end / MIB).toFixed(0)}`,
      'memory bounded': heapOk && workerOk && rssOk && domOk && listenersOk,
      'published state msg/s': pub,
      [`delivered to a Node viewer over ws: ${SELECTED}'s state/s, briefs/s`]: `${delivered.toFixed(1)}, ${((end.viewerBriefs - first.viewerBriefs) / loadS).toFixed(0)}`,
      'publisher ticks skipped (late > 1 period)': skipped,
      'page: selected robot summaries/s': pageSeqRate,
      'page: plot age ms max at samples': Math.max(...lags),
      'page: rows online at end': `${end.probe.online}/${end.probe.rows}`,
      [`page keeps up (selected robot >= 95% of ${RATE_HZ} Hz, plot lag < 1 s)`]: pageSeqRate >= 0.95 * RATE_HZ && Math.max(...lags) < 1000,
      'briefs published/s': (end.briefs - first.briefs) / loadS,
      'CPU % of one core during the load: chromium / broker+server+driver / fleet': `${cpuOf((s) => s.chromiumCpuS * 1e6).toFixed(0)} / ${cpuOf((s) => s.benchCpuUs).toFixed(0)} / ${cpuOf((s) => s.fleetCpuUs).toFixed(0)}`,
      'node heap MiB load start / end': `${(first.nodeHeap / MIB).toFixed(0)} / ${(end.nodeHeap / MIB).toFixed(0)}`,
      'e-stop probe ms idle p50/max': probeSummary(idleSamples),
      'e-stop probe ms loaded p50/max': probeSummary(loadSamples),
      'e-stop probes undelivered at end': end.probesSent - end.probeMs.length,
    };
    const notes = [
      `${ROBOTS} synthetic robots at ${RATE_HZ} Hz (own MQTT account each, QoS 0 state, retained online status) + their briefs (QoS 0, 1 Hz and on change, ${briefBytes} B) + 1 safety event/s (QoS 1); summaries ${quadBytes} B (12 joints) / ${armBytes} B (7 joints), StateSummarySchema-valid`,
      PREVIOUS,
      `page: ${variant.label}`,
      `page: Chromium ${browser.version()} headless, software rendering, 1400×1000, operator logged in, ${SELECTED}'s detail open (3 uPlot charts); long tasks ${longTasksSupported ? 'observed' : 'NOT supported by this browser'}`,
      `frame time = rAF interval; each 10 s sample forces a full GC (HeapProfiler.collectGarbage) in both phases alike, so heap = retained memory and one frame per window carries the GC pause`,
      `bounded = floor (lowest of ${FLOOR_OF} consecutive samples) of the heap at the end <= ${HEAP_GROWTH_LIMIT} × its floor at ${ref.t.toFixed(0)} s into the load (or + ${HEAP_SLACK / MIB} MiB for the JS heaps, whichever is more), the same for the workers' heap, the renderers' RSS and DOM nodes minus ${NODES_PER_EVENT_LINE} per event-log line (the log fills to ${EVENT_LOG_LINES} lines by design), and no more listeners: heap ${heapOk}, worker heap ${workerOk}, renderer RSS ${rssOk}, DOM ${domOk}, listeners ${listenersOk}`,
      `main busy % = renderer main thread TaskDuration / wall; script/style/layout % = Script-, RecalcStyle- and LayoutDuration / wall; chromium CPU % = all its processes, of one CPU; plot age = page clock − newest plotted sample's \`at\` at each frame; draw lag = the same when the page hands the charts a new newest sample (\`at\` is the publisher's wall clock when it sent it); e-stop max = slowest probe delivered in the window (operator publish → robot's client)`,
      `processes: this one (broker, dashboard server, page driver), the fleet's (${ROBOTS} publishers, ws viewer, e-stop prober), Chromium's; each's CPU is in the table, of one core`,
      `load average (1/5/15 min): start ${load0.map((x) => x.toFixed(2)).join('/')}, load start ${loadStartLoad.map((x) => x.toFixed(2)).join('/')}, end ${loadEndLoad.map((x) => x.toFixed(2)).join('/')} on ${cpus().length} CPUs shared by broker, publishers and Chromium (and whatever else runs on the machine)`,
    ];
    if (trace) notes.push(...traceNotes(trace));
    const result: BenchResult = {
      scenario: 'dashboard-load',
      title: `dashboard page (${variant.label}) under ${ROBOTS} robots × ${RATE_HZ} Hz for ${loadS.toFixed(0)} s, vs ${IDLE_S} s idle with the same robots known`,
      columns: ['window', 'frames', 'fps', 'p50 ms', 'p95 ms', 'p99 ms', 'long tasks', 'long ms', 'main busy %', 'script/style/layout %', 'chromium CPU %', 'broker CPU %', 'fleet CPU %', 'main heap MiB', 'worker heap MiB', 'renderer RSS MiB', 'DOM nodes', 'listeners', 'node heap MiB', 'pub msg/s', 'viewer sel. state/s', 'page seq/s', 'plot age p95 ms', 'draw lag p50/p95 ms', 'online', 'log lines', 'e-stop max ms'],
      rows,
      summary,
      notes,
    };
    const raw: Raw = {
      frames: phaseFrames('load'), draws: loadSamples.slice(1).flatMap((x) => x.probe.draws), ages: loadSamples.slice(1).flatMap((x) => x.probe.lags).filter(Number.isFinite),
      chromiumCpuPct: cpuOf((s) => s.chromiumCpuS * 1e6), loadAvg: ((loadStartLoad[0] ?? 0) + (loadEndLoad[0] ?? 0)) / 2,
    };
    return { result, trace, raw };
  } finally {
    await browser?.close().catch(() => undefined);
    // aedes (mqemitter) holds the backlog a slow subscriber caused; when the last subscriber of
    // those topics leaves, it drains that queue recursively and overflows the stack (seen with
    // ~60k queued). Let the Node viewer take the backlog first, bounded in time.
    fleet?.load(false);
    await fleet?.drain(DRAIN_MS).catch(() => undefined);
    await fleet?.stop().catch(() => undefined);
    await dashboard?.close().catch(() => undefined);
    await broker?.close().catch(() => undefined);
  }
}

/** Where the trace files go: beside the results. */
function resultsDir(): string {
  const dir = join(repoRoot(), 'test', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A trace's summary in a few lines: the busiest threads' top events, and the functions with the most self time. */
function traceNotes(t: TraceSummary): string[] {
  const top = (xs: [string, number][], n: number): string => xs.slice(0, n).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
  return [
    `trace (${t.seconds} s in mid-load, ms; ${t.traceFile}): ${t.threads.slice(0, 5).map((th) => `${th.name} busy ${th.busyMs}: ${top(th.top, 6)}`).join(' | ')}`,
    `CPU profile self ms, page: ${top(t.pageProfile, 10)}`,
    `CPU profile self ms, worker: ${top(t.workerProfile, 10)}`,
  ];
}

/** `rev`'s page (cloud/dashboard/public) in a temporary folder, from git; and how to remove it. */
function pageAt(rev: string): { dir: string; remove: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), 'spinal-dash-baseline-'));
  try {
    const tar = execFileSync('git', ['-C', repoRoot(), 'archive', '--format=tar', rev, 'cloud/dashboard/public'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', tmp], { input: tar });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`SPINAL_BENCH_DASHBOARD_BASELINE=${rev}: could not take its page from git: ${(e as Error).message}`);
  }
  return { dir: join(tmp, 'cloud', 'dashboard', 'public'), remove: () => rmSync(tmp, { recursive: true, force: true }) };
}

/**
 * Both fleets, one after the other (with a baseline revision: its page first, then this tree's,
 * each on a fresh broker and fleet, ROUNDS times); rows and figures labelled with fleet and page. A measurement
 * that fails (a page that stops answering) is reported as such; the others still count.
 */
async function run(): Promise<BenchResult> {
  const parts: { label: string; result: BenchResult }[] = [];
  const failed: Record<string, string> = {};
  const baseline = BASELINE === '' ? null : pageAt(BASELINE);
  const pages: PageVariant[] = [...(baseline ? [{ label: BASELINE, assetsDir: baseline.dir }] : []), { label: 'this tree' }];
  // A machine whose load drifts favours one order: a second run with the other order shows how much.
  const variants = BASELINE_LAST ? pages.reverse() : pages;
  const rounds = baseline ? ROUNDS : 1;
  const pooled = new Map<string, Raw[]>();
  try {
    for (const spec of LOADS) {
      for (let round = 1; round <= rounds; round++) {
        for (const variant of variants) {
          const fleet = `${spec.robots}×${spec.rateHz} Hz`;
          const label = `${fleet}${baseline ? ` [${variant.label}]` : ''}${rounds > 1 ? ` #${round}` : ''}`;
          try {
            const { result, raw } = await runLoad(spec, variant);
            parts.push({ label, result });
            const key = `${fleet} [${variant.label}]`;
            pooled.set(key, [...(pooled.get(key) ?? []), raw]);
          } catch (e) {
            failed[`${label}: not measured`] = (e as Error).message;
          }
        }
      }
    }
  } finally {
    baseline?.remove();
  }
  if (parts.length === 0) throw new Error(`no fleet measured: ${Object.values(failed).join('; ')}`);
  // Each page over all its rounds: frames, draws and ages pooled; CPU and load averaged.
  const side: Record<string, string> = {};
  if (baseline) {
    for (const [key, raws] of pooled) {
      const f = frameStats(raws.flatMap((r) => r.frames));
      const d = frameStats(raws.flatMap((r) => r.draws));
      const a = frameStats(raws.flatMap((r) => r.ages));
      const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
      side[`${key} over ${raws.length} round(s): frame p50/p95/p99 ms; plot lag at draw p50/p95 ms; plot age p50/p95 ms; chromium CPU %; load avg`] =
        `${f.p50.toFixed(1)}/${f.p95.toFixed(1)}/${f.p99.toFixed(1)}; ${d.p50.toFixed(0)}/${d.p95.toFixed(0)}; ${a.p50.toFixed(0)}/${a.p95.toFixed(0)}; ${mean(raws.map((r) => r.chromiumCpuPct)).toFixed(0)}; ${mean(raws.map((r) => r.loadAvg)).toFixed(1)}`;
    }
  }
  return {
    scenario: 'dashboard-load',
    title: parts.map((p) => p.result.title).join('; then '),
    columns: parts[0]?.result.columns ?? [],
    rows: parts.flatMap((p) => p.result.rows.map((r) => [`${p.label} ${String(r[0])}`, ...r.slice(1)])),
    summary: { ...side, ...Object.fromEntries(parts.flatMap((p) => Object.entries(p.result.summary).map(([k, v]) => [`${p.label}: ${k}`, v]))), ...failed },
    notes: parts.flatMap((p) => (p.result.notes ?? []).map((n) => `${p.label}: ${n}`)),
  };
}

export const scenario: Scenario = {
  name: 'dashboard-load',
  description: `dashboard page with ${LOADS.map((l) => `${l.robots} robots × ${l.rateHz} Hz`).join(', then ')}: frame time p50/p95/p99 vs idle, the selected robot's plot lag, long tasks, retained heap over ${DURATION_S} s each (SPINAL_BENCH_DASHBOARD_S)`,
  run,
};
