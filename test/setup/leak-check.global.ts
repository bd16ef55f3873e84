/**
 * vitest globalSetup: after the whole run, no process the run started may still be alive. The
 * workers themselves (this process's children) are vitest's to close and are not counted; a
 * leftover fails the run (exit code 1) with a list of what was left.
 */
import { LINEAGE_ENV } from '../../edge/process/tethered-child.js';
import { leftoverMessage, reapLeftovers } from './leak-check.js';

export default function setup(): () => Promise<void> {
  const run = process.env[LINEAGE_ENV];
  return async () => {
    if (run === undefined) return;
    const left = await reapLeftovers(run, { prefix: true, counts: (p) => p.ppid !== process.pid });
    if (left.length > 0) {
      process.exitCode = 1;
      throw new Error(leftoverMessage('the test run', left));
    }
  };
}
