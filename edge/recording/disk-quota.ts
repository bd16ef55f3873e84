/**
 * The recording directory's budget: every `*.mcap` file in it counts; to make room the oldest
 * (by name: names begin with a sortable UTC time) are deleted first; free space on the file system
 * is checked too, so recording never fills the disk.
 */
import { existsSync, mkdirSync, readdirSync, statSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface RecordingFile {
  name: string;
  bytes: number;
}

/**
 * Makes `dir` and any missing parent, one level at a time: Node 20's recursive mkdirSync can spin
 * forever on some file systems (seen under /proc), which would hang the daemon's start.
 */
export function makeDirectory(dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new Error(`${abs} is not a directory`);
    return;
  }
  const parent = dirname(abs);
  if (parent !== abs) makeDirectory(parent);
  mkdirSync(abs);
}

/** The `*.mcap` files in `dir`, oldest first. */
export function listRecordings(dir: string): RecordingFile[] {
  const out: RecordingFile[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.mcap')) continue;
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) out.push({ name, bytes: st.size });
    } catch { /* deleted meanwhile */ }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Deletes the oldest recordings (never `keep`) until the others plus `needBytes` fit in
 * `quotaBytes` and leave `minFreeBytes` free on the disk. Returns what is left, or a reason when
 * even deleting every other file does not make room.
 */
export function makeRoom(dir: string, needBytes: number, quotaBytes: number, minFreeBytes: number, keep: ReadonlySet<string> = new Set()): { files: RecordingFile[]; deleted: string[]; problem: string | null } {
  const files = listRecordings(dir);
  const deleted: string[] = [];
  let used = files.reduce((s, f) => s + f.bytes, 0);
  let free = freeBytes(dir);
  const fits = (): boolean => used + needBytes <= quotaBytes && free - needBytes >= minFreeBytes;
  while (!fits()) {
    const i = files.findIndex((f) => !keep.has(f.name));
    if (i < 0) break;
    const f = files[i] as RecordingFile;
    try {
      unlinkSync(join(dir, f.name));
    } catch { /* gone already */ }
    files.splice(i, 1);
    deleted.push(f.name);
    used -= f.bytes;
    free += f.bytes;
  }
  if (fits()) return { files, deleted, problem: null };
  const problem = used + needBytes > quotaBytes
    ? `recording.quotaBytes ${quotaBytes} cannot hold ${needBytes} more bytes`
    : `disk nearly full: ${free} bytes free in ${dir}, recording.minFreeBytes is ${minFreeBytes}`;
  return { files, deleted, problem };
}
