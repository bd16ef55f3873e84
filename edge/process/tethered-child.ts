/**
 * Child processes that die with their parent, also when the parent is SIGKILLed (which runs no
 * handler of its own, so "kill the children on exit" code never gets the chance).
 *
 * Two mechanisms, chosen by what the child is:
 * - Node children (`spinal` subcommands, bench helpers): a parent-death pipe (and, where setpriv
 *   exists, a parent-death SIGTERM from the kernel for a child still loading). The parent passes
 *   one end of a socket pair at a file descriptor named in SPINAL_PARENT_FD; the child
 *   (watchParent) reads it and, at end of file, stops as on SIGTERM, with a hard exit after a
 *   grace period. The kernel closes the parent's end when the parent exits, however it exits, and
 *   the child's own shutdown (an edge daemon's controlled stop on the wire) still runs.
 * - Other programs (mosquitto, ffmpeg, the sd_notify helper): started through util-linux
 *   `setpriv --pdeathsig KILL`, so the kernel kills them when their parent goes. The parent, for
 *   the kernel, is the thread that called spawn: spawn these from the main thread (a program
 *   spawned from a worker thread would die with that thread). Without setpriv the program is
 *   spawned as it is.
 * Chromium, started by playwright over its DevTools pipe, exits by itself when that pipe closes
 * (checked: SIGKILL of its Node parent leaves no Chromium process), so it needs neither.
 *
 * Every child also carries SPINAL_LINEAGE from this process's environment, even when the caller
 * gives it an environment of its own: a supervisor (the test run) tags what it starts with it and
 * finds, through /proc, whatever outlived it.
 */
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, join } from 'node:path';

/** Names the file descriptor of the parent-death pipe in a Node child's environment. */
export const PARENT_FD_ENV = 'SPINAL_PARENT_FD';
/** Carried into every child (see the module comment). */
export const LINEAGE_ENV = 'SPINAL_LINEAGE';
/**
 * What a Node child whose parent died gives its own SIGTERM shutdown before it exits hard. An edge
 * daemon's stop on the wire comes first in its shutdown; what is cut short is cleanup (MQTT
 * goodbye, closing the brain session), and nobody is left to wait for it: the parent is gone.
 */
export const DEFAULT_GRACE_MS = 1000;

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** util-linux setpriv, or null when this system has none. */
export function findSetpriv(): string | null {
  return SETPRIV_PATHS.find(executable) ?? null;
}

/** `file` as spawn would find it (a path, or a name looked up on PATH); null when not executable. */
function resolveProgram(file: string, env: NodeJS.ProcessEnv): string | null {
  if (file.includes('/')) return executable(file) ? file : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir && executable(join(dir, file))) return join(dir, file);
  return null;
}

function childEnv(options: SpawnOptions): NodeJS.ProcessEnv {
  const env = { ...(options.env ?? process.env) };
  const lineage = process.env[LINEAGE_ENV];
  if (lineage !== undefined && env[LINEAGE_ENV] === undefined) env[LINEAGE_ENV] = lineage;
  // A child's tether is its own: never hand this process's fd number down by accident.
  delete env.SPINAL_PARENT_FD; // PARENT_FD_ENV
  return env;
}

function stdioArray(stdio: StdioOptions | undefined): Exclude<StdioOptions, string> {
  if (stdio === undefined) return ['pipe', 'pipe', 'pipe'];
  if (typeof stdio === 'string') return [stdio, stdio, stdio];
  const out = [...stdio];
  while (out.length < 3) out.push('pipe');
  return out;
}

/**
 * Starts a Node child, `node <args>` with this Node binary, tethered by a parent-death pipe. The
 * child must call watchParent() early (bin/spinal.ts does it for every subcommand). `stdio` may
 * hold 'ipc' like fork's; the pipe takes the next free slot.
 */
export function spawnNodeChild(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const stdio = stdioArray(options.stdio);
  const fd = stdio.length;
  stdio.push('pipe');
  const env = { ...childEnv(options), [PARENT_FD_ENV]: String(fd) };
  // Also a parent-death SIGTERM from the kernel where setpriv exists: a child still loading its
  // modules (tens of seconds from the sources on a loaded machine) has not reached watchParent
  // yet, and SIGTERM's default action ends it then; once it runs, its own handler stops it.
  const setpriv = findSetpriv();
  const child = setpriv === null
    ? spawn(process.execPath, [...args], { ...options, stdio, env })
    : spawn(setpriv, ['--pdeathsig', 'TERM', '--', process.execPath, ...args], { ...options, stdio, env });
  // Never read, never written: the parent's end only has to exist for as long as the parent does.
  const tether = child.stdio[fd];
  if (tether instanceof Socket) tether.unref();
  return child;
}

/**
 * Starts a program that is not Node under `setpriv --pdeathsig KILL`: the kernel sends it SIGKILL
 * when the spawning thread exits. A program that cannot be found is spawned directly, so the
 * caller gets spawn's usual 'error' (ENOENT) rather than setpriv's exit code.
 */
export function spawnProgram(file: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const env = childEnv(options);
  const setpriv = findSetpriv();
  const program = resolveProgram(file, env);
  if (setpriv === null || program === null) return spawn(file, [...args], { ...options, env });
  return spawn(setpriv, ['--pdeathsig', 'KILL', '--', program, ...args], { ...options, env });
}

export interface WatchParentOptions {
  /** What to do when the parent is gone; default: SIGTERM to this process, then SIGKILL after graceMs. */
  onGone?: () => void;
  graceMs?: number;
}

/**
 * In a child started by spawnNodeChild: watches the parent-death pipe. Returns false (and does
 * nothing) when this process has none. The variable is removed from this process's environment,
 * so its own children do not take the fd for theirs.
 */
export function watchParent(opts: WatchParentOptions = {}): boolean {
  const raw = process.env[PARENT_FD_ENV];
  delete process.env.SPINAL_PARENT_FD; // PARENT_FD_ENV
  if (raw === undefined) return false;
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 3) throw new Error(`${PARENT_FD_ENV}=${JSON.stringify(raw)} is not a file descriptor above stdio`);
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const onGone = opts.onGone ?? ((): void => {
    // SIGKILL rather than exit(): exit() still runs teardown (worker threads, native add-ons such
    // as an edge daemon's decoder) that a starved process may not get through in time.
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), graceMs).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  const pipe = new Socket({ fd, readable: true, writable: false });
  let gone = false;
  const fire = (): void => {
    if (gone) return;
    gone = true;
    pipe.destroy();
    onGone();
  };
  pipe.on('data', () => undefined); // the parent writes nothing; reading is what detects the end
  pipe.once('end', fire);
  pipe.once('close', fire);
  pipe.once('error', fire);
  // The watch must never keep a finished process alive.
  pipe.unref();
  return true;
}
