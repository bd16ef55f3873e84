import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { setThreadNice } from './thread-priority.js';

/** Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value. */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[16]);
}

describe('setThreadNice', () => {
  it('changes this thread only', () => {
    const others = readdirSync('/proc/self/task').map(Number);
    const r = setThreadNice(3);
    expect(r.applied).toBe(true);
    expect(r.tid).not.toBeNull();
    const tid = r.tid as number;
    expect(niceOf(tid)).toBe(3);
    expect(others.filter((t) => t !== tid).map(niceOf)).not.toContain(3);
    setThreadNice(0); // back (the test runs as root, as CI does; otherwise this stays at 3 harmlessly)
  });

  it('reports, never throws, when the kernel refuses', () => {
    const r = setThreadNice(99);
    expect(r.applied).toBe(false);
    expect(r.reason).toMatch(/EINVAL|invalid|range/i);
  });
});
