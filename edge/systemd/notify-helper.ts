/**
 * Finds or builds the sd_notify relay binary. Order: an explicit path (config
 * `systemd.notifyHelper`, for installs that build it at package time), else a cached build named
 * by the source's hash in `cacheDir` (systemd's $CACHE_DIRECTORY under CacheDirectory=spinal,
 * else ~/.cache/spinal), compiled with `cc` once and renamed into place atomically.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOTIFY_HELPER_SOURCE } from './notify-helper-source.js';

export class NotifyHelperError extends Error {
  override readonly name = 'NotifyHelperError';
}

export function defaultHelperCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromSystemd = env.CACHE_DIRECTORY?.split(':')[0];
  if (fromSystemd) return fromSystemd;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'spinal');
  const home = homedir();
  return home ? join(home, '.cache', 'spinal') : join(tmpdir(), `spinal-${process.getuid?.() ?? 'user'}`);
}

export interface HelperLocation {
  /** A prebuilt helper; used as is (must be executable). */
  path?: string;
  cacheDir?: string;
  /** The C compiler; default `cc`. */
  cc?: string;
}

/** Returns the path of an executable helper, compiling it when needed; throws NotifyHelperError naming the cause. */
export function ensureNotifyHelper(loc: HelperLocation = {}): string {
  if (loc.path !== undefined) {
    try {
      accessSync(loc.path, constants.X_OK);
    } catch {
      throw new NotifyHelperError(`systemd.notifyHelper ${JSON.stringify(loc.path)} is not an executable file`);
    }
    return loc.path;
  }
  const dir = loc.cacheDir ?? defaultHelperCacheDir();
  const hash = createHash('sha256').update(NOTIFY_HELPER_SOURCE).digest('hex').slice(0, 12);
  const bin = join(dir, `sd-notify-helper-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const src = join(dir, `sd-notify-helper-${hash}.${process.pid}.c`);
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(src, NOTIFY_HELPER_SOURCE);
  try {
    execFileSync(loc.cc ?? 'cc', ['-O2', '-std=c99', '-Wall', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new NotifyHelperError(`cannot build the sd_notify helper with ${JSON.stringify(loc.cc ?? 'cc')} in ${dir}: ${stderr || (err as Error).message}`);
  } finally {
    rmSync(src, { force: true });
  }
  renameSync(tmp, bin);
  return bin;
}
