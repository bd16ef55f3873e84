/**
 * A time-ordered buffer of samples on one stream (STATE, COMMAND, a camera), holding only what the
 * frames still to be made can need: everything after the last sample at or before the oldest
 * pending frame time. Inserts are cheap when samples arrive in order and correct when a few arrive
 * late (they are placed by time).
 */
export class TimeTrack<T> {
  private us: number[] = [];
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.us.length - this.head;
  }

  push(us: number, item: T): void {
    let i = this.us.length;
    while (i > this.head && (this.us[i - 1] as number) > us) i--;
    if (i === this.us.length) {
      this.us.push(us);
      this.items.push(item);
    } else {
      this.us.splice(i, 0, us);
      this.items.splice(i, 0, item);
    }
  }

  /** Index of the last sample at or before `us` (absolute), or -1. */
  lastAtOrBefore(us: number): number {
    let lo = this.head;
    let hi = this.us.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.us[mid] as number) <= us) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Index of the oldest sample, or -1 when empty. */
  first(): number {
    return this.length > 0 ? this.head : -1;
  }

  /** Drops the oldest sample. */
  shift(): void {
    if (this.length > 0) this.head++;
  }

  timeAt(i: number): number {
    return this.us[i] as number;
  }

  itemAt(i: number): T {
    return this.items[i] as T;
  }

  has(i: number): boolean {
    return i >= this.head && i < this.us.length;
  }

  /** Drops every sample before the last one at or before `us` (that one stays: it is the hold value). */
  trimBefore(us: number): void {
    const keep = this.lastAtOrBefore(us);
    if (keep > this.head) this.head = keep;
    if (this.head > 4096 && this.head * 2 > this.us.length) {
      this.us = this.us.slice(this.head);
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
