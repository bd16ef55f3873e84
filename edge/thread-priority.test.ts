import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { setThreadNice, setThreadRealtime } from './thread-priority.js';

/** Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value. */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[16]);
}

/** Field 41 of the stat line is the scheduling policy: 0 SCHED_OTHER, 1 SCHED_FIFO. */
function policyOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}

describe('setThreadRealtime', () => {
  it('puts this thread under SCHED_FIFO when permitted (root here, CAP_SYS_NICE under systemd)', () => {
    const r = setThreadRealtime(10);
    expect(r.applied).toBe(true);
    const tid = r.tid as number;
    expect(policyOf(tid)).toBe(1);
    spawnSync('chrt', ['--other', '--pid', '0', String(tid)]);
    expect(policyOf(tid)).toBe(0);
  });

  it('refuses a priority outside 1..99 without calling out', () => {
    expect(setThreadRealtime(0)).toMatchObject({ applied: false, reason: 'priority 0 is outside 1..99' });
  });
});

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
