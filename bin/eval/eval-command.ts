/** `spinal eval`: runs a suite (simulated time, or real time through the daemon), writes report.json and the plots into --out, prints the summary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Execution } from './eval-types.js';
import { realtimeSupported } from './realtime-rig.js';
import { DEFAULT_SETTINGS, renderSummary, runEval, type EvalMode, type EvalReport } from './run-eval.js';
import { DEFAULT_EXECUTION, EXECUTIONS, TASKS, faultSuite, fullSuite, shortSuite, type SuiteEntry } from './suite.js';

export type SuiteName = 'short' | 'full' | 'faults';

export interface EvalCommandOptions {
  suite: SuiteName;
  /** 'simulated' (default): one injected clock, deterministic; 'real-time': through the daemon on a PTY. */
  mode?: EvalMode;
  out: string;
  /** Switching policy of the short and fault suites (default: the daemon's). */
  execution?: Execution;
  /** Only tasks whose "profile/id" contains this. */
  filter?: string;
  /** Plot every run (default: only the shipping policy's runs, one per task and latency). */
  plotAll?: boolean;
  quiet?: boolean;
}

export function parseExecution(v: string): Execution {
  const e = EXECUTIONS.find((x) => x === v);
  if (e === undefined) throw new RangeError(`execution ${JSON.stringify(v)} is not one of ${EXECUTIONS.join(', ')}`);
  return e;
}

export function parseMode(v: string): EvalMode {
  if (v === 'simulated' || v === 'real-time') return v;
  throw new RangeError(`mode ${JSON.stringify(v)} is not one of simulated, real-time`);
}

export function suiteEntries(o: Pick<EvalCommandOptions, 'suite' | 'execution' | 'filter' | 'mode'>): SuiteEntry[] {
  const policy = o.execution ?? DEFAULT_EXECUTION;
  const tasks = TASKS.filter((t) => o.filter === undefined || `${t.profile}/${t.id}`.includes(o.filter));
  const all = o.suite === 'short' ? shortSuite(policy) : o.suite === 'full' ? fullSuite(tasks) : faultSuite(policy, tasks);
  const picked = all.filter((e) => o.filter === undefined || `${e.task.profile}/${e.task.id}`.includes(o.filter));
  if (o.mode !== 'real-time') return picked;
  // Real time runs what the daemon runs: stop-and-go, DiT-S latency, plan loss and an injected
  // decode latency exist only in simulated time.
  const runnable = picked.filter((e) => realtimeSupported(e.condition) === null);
  if (runnable.length === 0 && picked.length > 0) throw new RangeError(`nothing of this suite runs in real time: ${realtimeSupported((picked[0] as SuiteEntry).condition) ?? ''}`);
  return runnable;
}

export async function runEvalCommand(o: EvalCommandOptions): Promise<{ report: EvalReport; exitCode: number }> {
  const entries = suiteEntries(o);
  if (entries.length === 0) throw new RangeError(`no task matches ${JSON.stringify(o.filter)}`);
  mkdirSync(o.out, { recursive: true });
  const t0 = performance.now();
  const report = await runEval(entries, {
    mode: o.mode ?? 'simulated',
    settings: DEFAULT_SETTINGS,
    plotDir: join(o.out, 'plots'),
    plotIf: (e) => o.plotAll === true || (e.condition.execution === (o.execution ?? DEFAULT_EXECUTION) && e.condition.decoder === 'reference' && e.condition.planLoss === 0),
    onRun: (f, i, n) => {
      if (o.quiet !== true) {
        const c = f.condition;
        console.error(`[${i + 1}/${n}] ${f.profile}/${f.task} ${c.execution} ${c.decoder} brain ${c.brainLatencyMs} ms: ${f.success ? 'ok' : 'FAILED'}` +
          ` completion ${f.completionS?.toFixed(2) ?? '-'} s (plan ${f.planTimeS.toFixed(2)} s), rest ${f.rest.velocityRms.toFixed(4)} rad/s` +
          (f.sampling ? `, ${f.sampling.commandsSeen}/${f.sampling.commandsSent} commands recorded` : ''));
      }
    },
  });
  writeFileSync(join(o.out, 'report.json'), JSON.stringify({ ...report, suite: o.suite, wallS: (performance.now() - t0) / 1000 }, null, 2) + '\n');
  if (report.mode === 'real-time') console.log(`real time through the daemon on a PTY (load average ${report.loadAverage?.start.toFixed(1)} at the start, ${report.loadAverage?.end.toFixed(1)} at the end)`);
  console.log(renderSummary(report.summary));
  if (report.failures.length > 0) console.log(`\n${report.failures.length} threshold(s) missed:\n  ${report.failures.join('\n  ')}`);
  console.log(`\nreport: ${join(o.out, 'report.json')}, plots: ${join(o.out, 'plots')}`);
  return { report, exitCode: o.suite === 'short' && report.failures.length > 0 ? 1 : 0 };
}
