/**
 * Safety events held while the broker is away, bounded. Events are published at QoS 1, and the
 * MQTT client would queue every one of them in memory for as long as the broker stays away; the
 * robot holds them here instead, at most `capacity` of them, and sends them in order on the next
 * connection.
 *
 * When full, the oldest *routine* event is dropped first; stop-related events (an e-stop received,
 * the fleet latch, a dead-man expiry, a lost e-stop channel, a reset accepted, a transition into or
 * out of ESTOP) are dropped only when nothing else is held, oldest first. Drops are counted, and
 * drain() reports them so the robot can publish one `events-dropped` event ahead of the rest.
 *
 * Invariants: held() <= capacity; every hold() is either drained once or counted as dropped once;
 * the relative order of the events kept is the order they were held in.
 */

export interface HeldEvent {
  kind: string;
  payload: Buffer;
  /** True for stop-related events (kept in preference to routine ones). */
  stop: boolean;
}

export interface DropCount {
  /** Events dropped since the last drain. */
  dropped: number;
  /** Of which stop-related. */
  droppedStop: number;
  /** Kinds dropped, with counts. */
  kinds: Record<string, number>;
}

const STOP_KINDS = new Set(['estop-received', 'fleet-latch', 'deadman-expired', 'mqtt-link-lost', 'reset-accepted', 'stop-while-latched']);

/** Whether an event is about stopping (kept in preference to routine ones when the outbox is full). */
export function isStopEvent(e: { kind: string; from?: unknown; to?: unknown }): boolean {
  if (STOP_KINDS.has(e.kind)) return true;
  return e.kind === 'transition' && (e.from === 'ESTOP' || e.to === 'ESTOP');
}

export const DEFAULT_OUTBOX_CAPACITY = 256;

export class EventOutbox {
  private events: HeldEvent[] = [];
  private drops: DropCount = { dropped: 0, droppedStop: 0, kinds: {} };
  /** Since construction, for metrics and summaries. */
  private droppedTotal = 0;

  constructor(readonly capacity = DEFAULT_OUTBOX_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event outbox capacity ${capacity} must be a positive integer`);
  }

  hold(e: HeldEvent): void {
    if (this.events.length >= this.capacity) {
      let victim = this.events.findIndex((x) => !x.stop);
      // Only stop-related events held: the newcomer, if routine, is the one to go.
      if (victim < 0 && !e.stop) return this.count(e);
      if (victim < 0) victim = 0;
      const [gone] = this.events.splice(victim, 1);
      if (gone !== undefined) this.count(gone);
    }
    this.events.push(e);
  }

  /** Everything held, in order, and the drops since the last drain; empties the outbox. */
  drain(): { events: HeldEvent[]; drops: DropCount } {
    const out = { events: this.events, drops: this.drops };
    this.events = [];
    this.drops = { dropped: 0, droppedStop: 0, kinds: {} };
    return out;
  }

  get held(): number {
    return this.events.length;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  private count(e: HeldEvent): void {
    this.droppedTotal++;
    this.drops.dropped++;
    if (e.stop) this.drops.droppedStop++;
    this.drops.kinds[e.kind] = (this.drops.kinds[e.kind] ?? 0) + 1;
  }
}
