/** A virtual robot on a PTY with an edge SerialLink attached, for benchmarks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getProfile } from '../../hardware/index.js';
import { SerialLink } from '../../edge/serial/serial-link.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';

export interface BenchRig {
  robot: VirtualRobot;
  link: SerialLink;
  close(): Promise<void>;
}

export async function openBenchRig(profile: string, stateRateHz: number): Promise<BenchRig> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-'));
  const linkPath = join(dir, 'robot.tty');
  const robot = new VirtualRobot({ profile, stateRateHz, linkPath });
  await robot.start();
  const link = new SerialLink({ path: linkPath, profile: getProfile(profile), software: { major: 0, minor: 1, patch: 0 } });
  link.start();
  const deadline = Date.now() + 10_000;
  while (link.state !== 'READY') {
    if (Date.now() > deadline) throw new Error(`serial link not READY within 10 s (state ${link.state})`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    robot,
    link,
    async close() {
      await link.stop();
      await robot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
