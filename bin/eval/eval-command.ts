/** `spinal eval`: runs a suite, writes report.json and the plots into --out, prints the summary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Execution } from './eval-types.js';
import { DEFAULT_SETTINGS, renderSummary, runEval, type EvalReport } from './run-eval.js';
import { DEFAULT_EXECUTION, EXECUTIONS, TASKS, faultSuite, fullSuite, shortSuite, type SuiteEntry } from './suite.js';

export type SuiteName = 'short' | 'full' | 'faults';

export interface EvalCommandOptions {
  suite: SuiteName;
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

export function suiteEntries(o: Pick<EvalCommandOptions, 'suite' | 'execution' | 'filter'>): SuiteEntry[] {
  const policy = o.execution ?? DEFAULT_EXECUTION;
  const tasks = TASKS.filter((t) => o.filter === undefined || `${t.profile}/${t.id}`.includes(o.filter));
  const all = o.suite === 'short' ? shortSuite(policy) : o.suite === 'full' ? fullSuite(tasks) : faultSuite(policy, tasks);
  return all.filter((e) => o.filter === undefined || `${e.task.profile}/${e.task.id}`.includes(o.filter));
}

export async function runEvalCommand(o: EvalCommandOptions): Promise<{ report: EvalReport; exitCode: number }> {
  const entries = suiteEntries(o);
  if (entries.length === 0) throw new RangeError(`no task matches ${JSON.stringify(o.filter)}`);
  mkdirSync(o.out, { recursive: true });
  const t0 = performance.now();
  const report = await runEval(entries, {
    settings: DEFAULT_SETTINGS,
    plotDir: join(o.out, 'plots'),
    plotIf: (e) => o.plotAll === true || (e.condition.execution === (o.execution ?? DEFAULT_EXECUTION) && e.condition.decoder === 'reference' && e.condition.planLoss === 0),
    onRun: (f, i, n) => {
      if (o.quiet !== true) {
        const c = f.condition;
        console.error(`[${i + 1}/${n}] ${f.profile}/${f.task} ${c.execution} ${c.decoder} brain ${c.brainLatencyMs} ms: ${f.success ? 'ok' : 'FAILED'}` +
          ` completion ${f.completionS?.toFixed(2) ?? '-'} s (plan ${f.planTimeS.toFixed(2)} s), rest ${f.rest.velocityRms.toFixed(4)} rad/s`);
      }
    },
  });
  writeFileSync(join(o.out, 'report.json'), JSON.stringify({ ...report, suite: o.suite, wallS: (performance.now() - t0) / 1000 }, null, 2) + '\n');
  console.log(renderSummary(report.summary));
  if (report.failures.length > 0) console.log(`\n${report.failures.length} threshold(s) missed:\n  ${report.failures.join('\n  ')}`);
  console.log(`\nreport: ${join(o.out, 'report.json')}, plots: ${join(o.out, 'plots')}`);
  return { report, exitCode: o.suite === 'short' && report.failures.length > 0 ? 1 : 0 };
}
