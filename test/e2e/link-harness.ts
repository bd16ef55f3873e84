/** A virtual robot on a PTY and an edge SerialLink on its stable path, for end-to-end tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getProfile } from '../../hardware/index.js';
import { SerialLink } from '../../edge/serial/serial-link.js';
import type { SerialLinkOptions } from '../../edge/serial/serial-link-types.js';
import type { LinkState } from '../../edge/serial/link-state.js';
import { VirtualRobot, type VirtualRobotOptions } from '../../firmware-shim/virtual/virtual-robot.js';

export interface Rig {
  robot: VirtualRobot;
  link: SerialLink;
  states: LinkState[];
  dispose(): Promise<void>;
}

export async function startRig(robotOpts: Omit<VirtualRobotOptions, 'linkPath'>, linkOpts: Partial<SerialLinkOptions> = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-e2e-'));
  const linkPath = join(dir, 'robot.tty');
  const robot = new VirtualRobot({ ...robotOpts, linkPath });
  await robot.start();
  const profileId = typeof robotOpts.profile === 'string' ? robotOpts.profile : robotOpts.profile.id;
  const link = new SerialLink({
    path: linkPath,
    profile: getProfile(profileId),
    software: { major: 0, minor: 1, patch: 0 },
    backoff: { initialMs: 20, maxMs: 200, jitter: 0.2 },
    ...linkOpts,
  });
  const states: LinkState[] = [];
  link.on('state-change', ({ to }) => states.push(to));
  link.start();
  return {
    robot,
    link,
    states,
    async dispose() {
      await link.stop();
      await robot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `pred` holds (it may be async), polling every few ms; rejects after `ms` naming what it waited for. */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
