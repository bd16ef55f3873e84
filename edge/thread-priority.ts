/**
 * Per-thread scheduling priority on Linux. Node exposes setpriority(2) as os.setPriority(pid,
 * nice); on Linux that call applies to one thread when given the thread's id, which a thread
 * learns from /proc/thread-self. The control tick thread raises itself (needs CAP_SYS_NICE or
 * root; otherwise it stays at the default and says so) and the decoder thread lowers itself
 * (always allowed), so on a loaded machine the scheduler wakes the tick thread first.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface PriorityResult {
  tid: number | null;
  nice: number;
  applied: boolean;
  /** Why not, when not applied. */
  reason?: string;
}

/** Sets this thread's nice value (-20 highest … 19 lowest). Never throws. */
export function setThreadNice(nice: number): PriorityResult {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return { tid: null, nice, applied: false, reason: 'no thread id in /proc/thread-self' };
  } catch (e) {
    return { tid: null, nice, applied: false, reason: `no /proc/thread-self (${(e as Error).message})` };
  }
  try {
    setPriority(tid, nice);
    return { tid, nice, applied: true };
  } catch (e) {
    return { tid, nice, applied: false, reason: (e as Error).message };
  }
}
