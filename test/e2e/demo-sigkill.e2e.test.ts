/**
 * `spinal demo` killed outright (SIGKILL: none of its own cleanup runs) leaves no process of its
 * fleet behind: the brain, the virtual firmware and the edge daemon each hold a parent-death pipe
 * and stop within 2 s of the kill (the bound is the issue's; the poll returns as soon as they are
 * gone).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import { TS_IMPORT_ARGS } from '../process/node-from-sources.js';
import { descendants, describeProcs, isAlive, pollUntil, waitGone, type ProcInfo } from '../process/proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GONE_WITHIN_MS = 2000;

let demo: ChildProcess | null = null;
let logs: string | null = null;
const fleet: number[] = [];
afterAll(() => {
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  for (const pid of fleet) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  // The demo removes its folder when it stops; killed, it cannot.
  if (logs) rmSync(logs, { recursive: true, force: true });
});

describe('spinal demo killed with SIGKILL', () => {
  it('leaves no process of the fleet alive after 2 s', async () => {
    const dropped = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'NODE_OPTIONS']);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.has(k)));
    const d = spawnNodeChild([...TS_IMPORT_ARGS, join(ROOT, 'bin/spinal.ts'), 'demo', '--robots', '1'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    demo = d;
    let all = '';
    d.stdout?.on('data', (b: Buffer) => { all += b.toString('utf8'); });
    d.stderr?.on('data', (b: Buffer) => { all += b.toString('utf8'); });
    // The children's command lines name the demo's folder; a scan of /proc costs CPU the fleet
    // needs to start, so a few a second. Starting from the sources takes long on a loaded machine.
    const kinds = [/ cloud --config /, / sim --profile /, / edge --config /];
    let tree: ProcInfo[] = [];
    await pollUntil('the brain, the virtual firmware and the edge daemon running', () => {
      if (d.exitCode !== null) throw new Error(`the demo exited with code ${d.exitCode}\n${all.slice(-2000)}`);
      tree = descendants(d.pid as number);
      return kinds.every((k) => tree.some((p) => k.test(p.cmdline)));
    }, 200_000, 500);
    logs = /(\/\S*spinal-demo-[^/\s]+)\//.exec(tree.map((p) => p.cmdline).join(' '))?.[1] ?? null;
    // Killed once the fleet runs: the robot's row shows a safety state its edge daemon reported over MQTT.
    await pollUntil('robot1 reporting its state', () => {
      if (d.exitCode !== null) throw new Error(`the demo exited with code ${d.exitCode}\n${all.slice(-2000)}`);
      return /^robot1 +\S+ +(?!starting)[A-Z]+ /m.test(all.slice(-4000));
    }, 200_000, 100);
    tree = descendants(d.pid as number);
    fleet.push(...tree.map((p) => p.pid));

    d.kill('SIGKILL');
    await once(d, 'exit');
    const alive = await waitGone(fleet, GONE_WITHIN_MS);
    expect(alive, describeProcs(tree.filter((p) => alive.includes(p.pid)))).toEqual([]);
  }, 420_000);
});
