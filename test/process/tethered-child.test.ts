/**
 * Children started through tethered-child die with their parent: a process standing in for a test
 * worker starts Node children (one with a program of its own) and a program, is SIGKILLed, and
 * none of them is alive 2 s later. The control case, a plain spawn, outlives it: the check can see
 * a survivor.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LINEAGE_ENV, PARENT_FD_ENV, findSetpriv, spawnNodeChild, spawnProgram, watchParent } from '../../edge/process/tethered-child.js';
import { TS_IMPORT_ARGS } from './node-from-sources.js';
import { isAlive, waitGone } from './proc.js';

const WORKER_LIKE = fileURLToPath(new URL('./fixtures/worker-like.ts', import.meta.url));
const SLEEPER = fileURLToPath(new URL('./fixtures/sleeper.ts', import.meta.url));
/** The bound: nothing of what a killed parent started is alive this long after the kill. */
const GONE_WITHIN_MS = 2000;

const started: number[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code, sig) => reject(new Error(`exited (${code ?? sig}) before printing`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
  });
}

describe('tethered children', () => {
  it('finds util-linux setpriv on this machine (the programs\' mechanism)', () => {
    expect(findSetpriv()).not.toBeNull();
  });

  it('SIGKILL of a worker-like parent leaves none of its children or grandchildren alive', async () => {
    const worker = spawnNodeChild([...TS_IMPORT_ARGS, WORKER_LIKE, 'untethered'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(worker);
    const { pids, untethered } = JSON.parse(await firstLine(worker)) as { pids: number[]; untethered: number };
    started.push(...pids, untethered);
    expect(pids).toHaveLength(4); // Node child + its program, Node child, program
    expect(pids.every(isAlive)).toBe(true);

    worker.kill('SIGKILL');
    await once(worker, 'exit');
    expect(await waitGone(pids, GONE_WITHIN_MS)).toEqual([]);
    // The control: a child nothing tethers survives its parent's SIGKILL.
    expect(isAlive(untethered)).toBe(true);
  }, 60_000);

  it('a Node child whose parent goes runs its own SIGTERM shutdown', async () => {
    const child = spawnNodeChild([...TS_IMPORT_ARGS, SLEEPER, 'graceful'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (l) => lines.push(l));
    await once(rl, 'line');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ tethered: true });
    // The parent's end closing is what the child sees when its parent dies.
    const parentEnd = child.stdio[3];
    expect(parentEnd).not.toBeNull();
    parentEnd?.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(lines).toContain('graceful stop');
  }, 60_000);

  it('hands the lineage tag to a program even when the caller gives it an environment of its own', async () => {
    const before = process.env[LINEAGE_ENV];
    process.env[LINEAGE_ENV] = 'tag-42';
    try {
      const child = spawnProgram('sh', ['-c', `printf %s "$${LINEAGE_ENV}|$${PARENT_FD_ENV}"`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [PARENT_FD_ENV]: '9' }, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
      await once(child, 'exit');
      expect(out).toBe('tag-42|');
    } finally {
      if (before === undefined) delete process.env.SPINAL_LINEAGE;
      else process.env[LINEAGE_ENV] = before;
    }
  });

  it('reports a program that does not exist as spawn does (an ENOENT error event)', async () => {
    const child = spawnProgram('/nonexistent/spinal-no-such-program', [], { stdio: 'ignore' });
    const [err] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ENOENT');
  });

  it('watchParent does nothing without a pipe and names a bad descriptor', () => {
    const before = process.env[PARENT_FD_ENV];
    try {
      delete process.env.SPINAL_PARENT_FD;
      expect(watchParent()).toBe(false);
      process.env[PARENT_FD_ENV] = 'x1';
      expect(() => watchParent()).toThrow(/SPINAL_PARENT_FD="x1"/);
      expect(process.env[PARENT_FD_ENV]).toBeUndefined();
    } finally {
      if (before !== undefined) process.env[PARENT_FD_ENV] = before;
    }
  });
});
