/**
 * Per-thread scheduling priority on Linux. Node exposes setpriority(2) as os.setPriority(pid,
 * nice); on Linux that call applies to one thread when given the thread's id, which a thread
 * learns from /proc/thread-self. The control tick thread raises itself (needs CAP_SYS_NICE or
 * root; otherwise it stays at the default and says so) and the decoder thread lowers itself
 * (always allowed), so on a loaded machine the scheduler wakes the tick thread first.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface PriorityResult {
  tid: number | null;
  nice: number;
  applied: boolean;
  /** Why not, when not applied. */
  reason?: string;
}

/** This thread's kernel id, or a reason why it cannot be known. */
function threadId(): number | string {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : 'no thread id in /proc/thread-self';
  } catch (e) {
    return `no /proc/thread-self (${(e as Error).message})`;
  }
}

/** Sets this thread's nice value (-20 highest … 19 lowest). Never throws. */
export function setThreadNice(nice: number): PriorityResult {
  const tid = threadId();
  if (typeof tid === 'string') return { tid: null, nice, applied: false, reason: tid };
  try {
    setPriority(tid, nice);
    return { tid, nice, applied: true };
  } catch (e) {
    return { tid, nice, applied: false, reason: (e as Error).message };
  }
}

export interface RealtimeResult {
  tid: number | null;
  priority: number;
  applied: boolean;
  reason?: string;
}

/**
 * Puts this thread under SCHED_FIFO at `priority` (1..99) with util-linux's `chrt`, which Node cannot
 * do itself. Needs CAP_SYS_NICE (the unit grants it) and a kernel that allows real-time threads;
 * the kernel's RT throttling still leaves 5 % of each second to everything else. Never throws.
 */
export function setThreadRealtime(priority: number): RealtimeResult {
  const tid = threadId();
  if (typeof tid === 'string') return { tid: null, priority, applied: false, reason: tid };
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) return { tid, priority, applied: false, reason: `priority ${priority} is outside 1..99` };
  const r = spawnSync('chrt', ['--fifo', '--pid', String(priority), String(tid)], { encoding: 'utf8', timeout: 2000 });
  if (r.error) return { tid, priority, applied: false, reason: `chrt: ${r.error.message}` };
  if (r.status !== 0) return { tid, priority, applied: false, reason: `chrt exited ${r.status}: ${r.stderr.trim()}` };
  return { tid, priority, applied: true };
}
