/** A virtual robot on a PTY with an edge SerialLink attached, for benchmarks: the e2e rig, READY. */
import { startRig, waitFor, type Rig } from '../e2e/link-harness.js';

export { sleep } from '../e2e/link-harness.js';

export async function openBenchRig(profile: string, stateRateHz: number): Promise<Rig> {
  const rig = await startRig({ profile, stateRateHz });
  await waitFor('serial link READY', () => rig.link.state === 'READY', 10_000);
  return rig;
}
