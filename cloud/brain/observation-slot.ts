/**
 * Newest observation wins: one slot per session. Putting an observation while an older one waits
 * replaces it (the older one is returned as superseded); taking empties the slot. There is never
 * more than one waiting observation, whatever the arrival rate and however slow the backend.
 *
 * Invariant: `waiting` is null or the newest accepted observation not yet handed to the backend.
 */
import type { Observation } from '../../proto/brain/index.js';

export interface SlotEntry {
  observation: Observation;
  /** Brain clock, when it arrived (microseconds). */
  receivedTimeUs: number;
  /** Monotonic ms, when it arrived (for the latency histogram). */
  receivedMonoMs: number;
}

export class ObservationSlot {
  private waiting: SlotEntry | null = null;

  /** Stores the entry; returns the one it replaced (superseded), or null. */
  put(entry: SlotEntry): SlotEntry | null {
    const old = this.waiting;
    this.waiting = entry;
    return old;
  }

  take(): SlotEntry | null {
    const e = this.waiting;
    this.waiting = null;
    return e;
  }

  get isEmpty(): boolean {
    return this.waiting === null;
  }
}
