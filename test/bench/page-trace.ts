/**
 * Where a page's time goes, from Chromium itself: a performance trace of every Chromium process
 * (CDP Tracing, the categories DevTools' Performance panel records) and sampling CPU profiles of
 * the page's main thread and of one worker (CDP Profiler), over the same seconds. The full trace
 * is written for DevTools (Performance panel → Load profile); the summary says, per busy thread,
 * which trace events took the time, and per profile which functions (self time).
 */
import { writeFileSync } from 'node:fs';
import type { CDPSession } from 'playwright-core';

export interface TraceSummary {
  seconds: number;
  /** Per thread (busiest first): its name, busy ms (its top-level tasks), and the event names with the most time (ms; nested events counted in each). */
  threads: { name: string; busyMs: number; top: [string, number][] }[];
  /** Self time (ms) by function, page main thread and worker, most first. */
  pageProfile: [string, number][];
  workerProfile: [string, number][];
  traceFile: string;
}

interface TraceEvent { ph: string; name: string; pid: number; tid: number; dur?: number; args?: { name?: string } }
interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface Profile { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel', 'v8', 'v8.execute', 'blink', 'cc', 'gpu', 'viz', 'disabled-by-default-v8.gc'];
/** Trace events that are a thread's top-level tasks: their sum is the thread's busy time. */
const TASKS = new Set(['RunTask', 'ThreadControllerImpl::RunTask', 'ThreadPool_RunTask']);
const TOP = 15;

/** Self time by function of a CPU profile, most first. */
export function selfTimes(p: Profile): [string, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i] as number);
    if (!n) continue;
    const f = n.callFrame;
    const file = f.url.slice(f.url.lastIndexOf('/') + 1);
    const key = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
    // The delta before the next sample is this sample's share of time (µs).
    ms.set(key, (ms.get(key) ?? 0) + ((deltas[i + 1] ?? deltas[i] ?? 0) / 1000));
  }
  return [...ms].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]) => [k, Math.round(v * 10) / 10]);
}

/** Per-thread busy time and top event names of a trace's complete events. */
export function threadSummary(events: readonly TraceEvent[]): TraceSummary['threads'] {
  const names = new Map<string, string>();
  const procs = new Map<number, string>();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    if (e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
    if (e.name === 'process_name') procs.set(e.pid, e.args?.name ?? '?');
  }
  const threads = new Map<string, { busy: number; by: Map<string, number> }>();
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined) continue;
    const key = `${e.pid}:${e.tid}`;
    let t = threads.get(key);
    if (!t) threads.set(key, (t = { busy: 0, by: new Map() }));
    if (TASKS.has(e.name)) t.busy += e.dur / 1000;
    else t.by.set(e.name, (t.by.get(e.name) ?? 0) + e.dur / 1000);
  }
  return [...threads]
    .map(([key, t]) => ({
      name: `${procs.get(Number(key.split(':')[0])) ?? '?'}/${names.get(key) ?? key}`,
      busyMs: Math.round(t.busy),
      top: [...t.by].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]): [string, number] => [k, Math.round(v * 10) / 10]),
    }))
    .filter((t) => t.busyMs > 0 || t.top.length > 0)
    .sort((a, b) => b.busyMs - a.busyMs)
    .slice(0, 8);
}

/**
 * Records `seconds` of trace (browser session) and CPU profiles (page session; the worker through
 * `askWorker`, which sends a CDP command to the worker's target), writes the trace to `traceFile`.
 */
export async function tracePage(opts: {
  browserCdp: CDPSession;
  pageCdp: CDPSession;
  askWorker: ((method: string, params: object) => Promise<Record<string, unknown>>) | null;
  seconds: number;
  traceFile: string;
}): Promise<TraceSummary> {
  const { browserCdp, pageCdp, askWorker } = opts;
  const events: TraceEvent[] = [];
  const onData = (ev: { value: object[] }): void => { for (const e of ev.value) events.push(e as TraceEvent); };
  browserCdp.on('Tracing.dataCollected', onData);
  const complete = new Promise<void>((resolve) => browserCdp.once('Tracing.tracingComplete', () => resolve()));
  await browserCdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: CATEGORIES } });
  await pageCdp.send('Profiler.enable');
  await pageCdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await pageCdp.send('Profiler.start');
  if (askWorker) {
    await askWorker('Profiler.enable', {});
    await askWorker('Profiler.setSamplingInterval', { interval: 250 });
    await askWorker('Profiler.start', {});
  }
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  const page = (await pageCdp.send('Profiler.stop')).profile as unknown as Profile;
  const worker = askWorker ? ((await askWorker('Profiler.stop', {})).profile as Profile | undefined) ?? null : null;
  await browserCdp.send('Tracing.end');
  await complete;
  browserCdp.off('Tracing.dataCollected', onData);
  writeFileSync(opts.traceFile, JSON.stringify({ traceEvents: events }));
  return { seconds: opts.seconds, threads: threadSummary(events), pageProfile: selfTimes(page), workerProfile: worker ? selfTimes(worker) : [], traceFile: opts.traceFile };
}
