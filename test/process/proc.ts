/**
 * What /proc says about this machine's processes, for the tests that prove nothing outlives its
 * parent. Linux only. A zombie (state Z) counts as gone: it has exited, and only its parent (or
 * init, which in a container may never reap) still holds its exit status.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** One letter, as in /proc/<pid>/stat: R, S, D, Z, T... */
  state: string;
  /** argv joined by spaces. */
  cmdline: string;
}

/** /proc/<pid>/stat's fields after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone meanwhile
  }
}

export function procInfo(pid: number): ProcInfo | null {
  const f = statFields(pid);
  if (!f) return null;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s.length > 0).join(' ');
  } catch { /* gone meanwhile, or a kernel thread */ }
  return { pid, ppid: Number(f[1]), state: f[0] ?? '?', cmdline };
}

/** True while `pid` runs (exists and is not a zombie). */
export function isAlive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * Live processes whose initial environment (what they were started with) holds `name=value`, or,
 * with `prefix`, `name=value...`.
 */
export function processesWithEnv(name: string, value: string, opts: { prefix?: boolean } = {}): ProcInfo[] {
  const needle = `\0${name}=${value}${opts.prefix ? '' : '\0'}`;
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    let env: string;
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // another user's, or gone
    }
    if (!`\0${env}${env.endsWith('\0') ? '' : '\0'}`.includes(needle)) continue;
    if (!isAlive(pid)) continue;
    const info = procInfo(pid);
    if (info) out.push(info);
  }
  return out;
}

/** Live processes whose command line contains `needle`. */
export function processesMentioning(needle: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    const info = procInfo(pid);
    if (info && info.state !== 'Z' && info.cmdline.includes(needle)) out.push(info);
  }
  return out;
}

/** Live descendants of `root` (children, their children...), found through ppid. */
export function descendants(root: number): ProcInfo[] {
  const all = allPids().map(procInfo).filter((p): p is ProcInfo => p !== null && p.state !== 'Z');
  const out: ProcInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const p of all) if (p.ppid === parent) { out.push(p); frontier.push(p.pid); }
  }
  return out;
}

/**
 * Polls until `pids` have all exited, or `deadlineMs` (from now) passes; returns those still alive
 * then. A poll with a deadline, not a sleep: it returns as soon as they are gone.
 */
export async function waitGone(pids: readonly number[], deadlineMs: number, pollMs = 20): Promise<number[]> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() >= end) return alive;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Polls `pred` every `pollMs` until it holds; throws naming `what` after `ms`. */
export async function pollUntil(what: string, pred: () => boolean, ms: number, pollMs: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function describeProcs(ps: readonly ProcInfo[]): string {
  return ps.map((p) => `${p.pid} (parent ${p.ppid}, ${p.state}): ${p.cmdline.slice(0, 200)}`).join('\n');
}
