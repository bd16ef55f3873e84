/**
 * Finding the processes a test run (or one test file) left behind. Every process the run starts
 * carries SPINAL_LINEAGE in its environment: vitest.config.ts gives the workers the run's tag, the
 * per-file setup narrows it to `<run>.<file>` in its worker, and tethered-child hands it on even to
 * children given an environment of their own. /proc/<pid>/environ shows what a process was started
 * with, so an orphan re-parented to init is found as surely as a child still under its worker.
 */
import { LINEAGE_ENV } from '../../edge/process/tethered-child.js';
import { describeProcs, isAlive, processesWithEnv, type ProcInfo } from '../process/proc.js';

/** How long leftovers get to exit by themselves (a tethered child running its own shutdown) before they count. */
export const LEFTOVER_GRACE_MS = 10_000;

/**
 * Waits (polling, up to LEFTOVER_GRACE_MS) for the processes tagged `tag` (or, with `prefix`,
 * tagged with anything that starts with it) and accepted by `counts` to be gone. Those still
 * alive then are SIGKILLed, so one leak does not spill into the next file or run, and returned.
 */
export async function reapLeftovers(tag: string, opts: { prefix?: boolean; counts?: (p: ProcInfo) => boolean } = {}): Promise<ProcInfo[]> {
  const counts = opts.counts ?? ((): boolean => true);
  const find = (): ProcInfo[] => processesWithEnv(LINEAGE_ENV, tag, { prefix: opts.prefix ?? false }).filter((p) => p.pid !== process.pid && counts(p));
  const end = Date.now() + LEFTOVER_GRACE_MS;
  let left = find();
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    left = find();
  }
  for (const p of left) {
    try {
      if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    } catch { /* gone meanwhile */ }
  }
  return left;
}

export function leftoverMessage(where: string, left: readonly ProcInfo[]): string {
  return `${where} left ${left.length} process(es) running (now killed); start children through edge/process/tethered-child and stop them in the test's cleanup:\n${describeProcs(left)}`;
}
