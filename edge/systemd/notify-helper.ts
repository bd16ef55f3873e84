/**
 * Finds the sd_notify relay binary; never builds one. Order: an explicit path (config
 * `systemd.notifyHelper`), else the one the package's install script built
 * (`<package>/build/sd-notify-helper`, see build-notify-helper.mjs).
 *
 * A helper runs with the daemon's rights, so it is refused (NotifyHelperError naming the path, its
 * owner and mode) unless the file and every directory above it are owned by root or by this
 * process's user and writable by nobody else (group write is allowed only to root's group, gid 0).
 * A directory that others may write but which has the sticky bit (e.g. /tmp) is accepted: there
 * nobody can replace an entry they do not own, and the entries below it are checked in turn.
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class NotifyHelperError extends Error {
  override readonly name = 'NotifyHelperError';
}

export interface HelperLocation {
  /** A prebuilt helper (absolute path); default: the one built at install. */
  path?: string;
}

export type HelperLookup = { ok: true; path: string } | { ok: false; why: string };

const HELPER = join('build', 'sd-notify-helper');

/** The package root above this module (sources or dist/): the first directory with a package.json. */
function packageRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = resolve(dir, '..')) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (resolve(dir, '..') === dir) return null;
  }
}

/** Where the install script puts the helper. */
export function installedHelperPath(): string {
  const root = packageRoot();
  if (root === null) throw new NotifyHelperError('no package.json above the systemd module: cannot tell where the sd_notify helper was installed');
  return join(root, HELPER);
}

function describe(path: string, uid: number, mode: number): string {
  return `${path} (owner uid ${uid}, mode ${(mode & 0o7777).toString(8).padStart(4, '0')})`;
}

/**
 * Throws NotifyHelperError unless `path` and every directory above it (after resolving symbolic
 * links, and also along the path as given) is owned by root or `euid` and not writable by others,
 * nor by a group other than root's (sticky directories excepted).
 */
export function checkHelperPathSafe(path: string, euid: number = process.geteuid?.() ?? 0): void {
  const seen = new Set<string>();
  const chains = [resolve(path), realpathSync(path)];
  for (const start of chains) {
    for (let p = start; !seen.has(p); p = dirname(p)) {
      seen.add(p);
      const st = statSync(p);
      const owners = euid === 0 ? 'root' : `root or uid ${euid}`;
      if (st.uid !== 0 && st.uid !== euid) {
        throw new NotifyHelperError(`refusing the sd_notify helper ${path}: ${describe(p, st.uid, st.mode)} is not owned by ${owners}`);
      }
      // Group write is harmless when the group is root's (gid 0: a umask of 002 under root).
      const othersWrite = (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== 0);
      const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
      if (othersWrite && !sticky) {
        throw new NotifyHelperError(`refusing the sd_notify helper ${path}: ${describe(p, st.uid, st.mode)} is writable by users other than its owner`);
      }
      if (dirname(p) === p) break;
    }
  }
}

/**
 * The helper to run: `{ ok: true, path }`; `{ ok: false, why }` when none was installed (the daemon
 * then runs without sd_notify and says why). Throws NotifyHelperError for a configured path that
 * is not an executable file, and for any helper on an unsafe path (checkHelperPathSafe).
 */
export function findNotifyHelper(loc: HelperLocation = {}): HelperLookup {
  if (loc.path !== undefined) {
    try {
      accessSync(loc.path, constants.X_OK);
    } catch {
      throw new NotifyHelperError(`systemd.notifyHelper ${JSON.stringify(loc.path)} is not an executable file`);
    }
    checkHelperPathSafe(loc.path);
    return { ok: true, path: loc.path };
  }
  const installed = installedHelperPath();
  if (!existsSync(installed)) {
    return { ok: false, why: `no sd_notify helper at ${installed}: it is built at install when a C compiler is present (node edge/systemd/build-notify-helper.mjs), or set systemd.notifyHelper` };
  }
  checkHelperPathSafe(installed);
  return { ok: true, path: installed };
}

/** The helper's path, or NotifyHelperError saying why there is none (for tools and tests that need it). */
export function requireNotifyHelper(loc: HelperLocation = {}): string {
  const found = findNotifyHelper(loc);
  if (!found.ok) throw new NotifyHelperError(found.why);
  return found.path;
}
