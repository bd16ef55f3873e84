/**
 * Whether a Unix user can read (or write) a file, judged from the mode bits along its path.
 * Mosquitto 2.0 started as root drops to its `user` before it opens the password file, the ACL
 * file, the dynamic security file and the TLS certificate and key (checked against 2.0.11: a
 * root-only 0600 file fails with "Unable to open pwfile" / "Check certfile" / "File is not
 * readable"), so `spinal mosquitto` hands its files to that user and says which others it cannot reach.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** The user's ids from `id` (NSS-aware); throws naming the user when there is none. */
export function lookupUser(name: string): UnixUser {
  const id = (flag: string): string => {
    try {
      return execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch {
      throw new Error(`no such user ${JSON.stringify(name)} on this machine (create it, or name the user mosquitto runs as)`);
    }
  };
  return { name, uid: Number(id('-u')), gid: Number(id('-g')), groups: id('-G').split(/\s+/).map(Number) };
}

function allowed(path: string, user: UnixUser, bit: 4 | 2 | 1): boolean {
  if (user.uid === 0) return true;
  const st = statSync(path);
  const shift = st.uid === user.uid ? 6 : user.groups.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bit) !== 0;
}

/** Why `user` cannot read (or, with `write`, write) `path`; null when it can. */
export function accessProblem(path: string, user: UnixUser, write = false): string | null {
  const full = resolve(path);
  try {
    for (let dir = dirname(full); ; dir = dirname(dir)) {
      if (!allowed(dir, user, 1)) return `${user.name} cannot enter ${dir}`;
      if (dir === dirname(dir)) break;
    }
    if (!allowed(full, user, 4)) return `${user.name} cannot read ${full}`;
    if (write && !allowed(full, user, 2)) return `${user.name} cannot write ${full}`;
    return null;
  } catch (e) {
    return `${full}: ${(e as Error).message}`;
  }
}

/** Makes `user` (and its primary group) the owner of each path; only root may. */
export function handOver(paths: readonly string[], user: UnixUser): void {
  for (const p of paths) chownSync(p, user.uid, user.gid);
}
