/**
 * `spinal demo`: a virtual robot and an edge daemon as two processes, wired by a pseudo-terminal,
 * with the edge's live view in this terminal. Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(new URL('./spinal.js', import.meta.url));

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

/** Reads the first stdout line of a child (the sim prints its tty path there). */
function firstLine(child: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('child has no stdout'));
    const rl = createInterface({ input: child.stdout });
    const t = setTimeout(() => reject(new Error(`no tty path from the virtual robot within ${ms} ms`)), ms);
    rl.once('line', (line) => { clearTimeout(t); resolve(line.trim()); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`virtual robot exited with code ${code} before printing its tty path`)); });
  });
}

export async function runDemo(opts: { profile: string; rate?: number }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-demo-'));
  const link = join(dir, `${opts.profile}.tty`);
  const simLog = openSync(join(dir, 'sim.log'), 'a');
  console.log(`spinal demo: starting a virtual ${opts.profile} (log: ${join(dir, 'sim.log')})`);
  const sim = spawn(process.execPath, [SELF, 'sim', '--profile', opts.profile, '--link', link, ...(opts.rate ? ['--rate', String(opts.rate)] : [])], { stdio: ['ignore', 'pipe', simLog] });
  const children: ChildProcess[] = [sim];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => waitExit(c, 3000)));
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll());
  process.once('SIGTERM', () => void stopAll());
  try {
    const tty = await firstLine(sim, 10_000);
    console.log(`spinal demo: virtual robot on ${tty}; starting the edge daemon`);
    const edge = spawn(process.execPath, [SELF, 'edge', '--port', link, '--profile', opts.profile, '--id', `demo-${opts.profile}`, '--monitor'], { stdio: 'inherit' });
    children.push(edge);
    const code = await new Promise<number>((resolve) => edge.once('exit', (c) => resolve(c ?? 0)));
    await stopAll();
    return code;
  } catch (e) {
    console.error(`spinal demo: ${(e as Error).message}`);
    await stopAll();
    return 1;
  }
}
