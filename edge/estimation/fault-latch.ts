/**
 * Sticky fault flags per slot (a joint, or the IMU): raw bits seen in a sample set the slot's
 * flags at once; the slot's flags clear together only after `recoverAfter` consecutive samples
 * with no raw bit at all, so a flickering sensor raises one event, not one per sample.
 * Invariant: flags[s] === 0 iff the slot is healthy; clean[s] counts consecutive raw-clean samples.
 * Allocation-free.
 */
export class FaultLatch {
  readonly flags: Uint32Array;
  /** Flags before the last update() of each slot: rose = flags & ~previous, fell = previous & ~flags. */
  readonly previous: Uint32Array;
  private readonly clean: Uint32Array;

  constructor(slots: number, private readonly recoverAfter: number) {
    this.flags = new Uint32Array(slots);
    this.previous = new Uint32Array(slots);
    this.clean = new Uint32Array(slots);
  }

  /** Feeds one sample's raw bits for a slot; returns the slot's latched flags. */
  update(slot: number, raw: number): number {
    const before = this.flags[slot] as number;
    this.previous[slot] = before;
    if (raw !== 0) {
      this.clean[slot] = 0;
      this.flags[slot] = (before | raw) >>> 0;
    } else if (before !== 0) {
      const c = (this.clean[slot] as number) + 1;
      this.clean[slot] = c;
      if (c >= this.recoverAfter) this.flags[slot] = 0;
    }
    return this.flags[slot] as number;
  }

  /** True when the last update() of any slot changed its flags. */
  changed(slot: number): boolean {
    return this.flags[slot] !== this.previous[slot];
  }
}
