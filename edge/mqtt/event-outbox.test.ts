import { describe, expect, it } from 'vitest';
import { EventOutbox, isStopEvent, type HeldEvent } from './event-outbox.js';

const ev = (kind: string, n: number, stop = false): HeldEvent => ({ kind, payload: Buffer.from(String(n)), stop });
const ids = (events: HeldEvent[]): string[] => events.map((e) => `${e.kind}:${e.payload.toString()}`);

/** A small seeded generator, so a failing case can be replayed from the printed seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('event outbox: safety events held while the broker is away, bounded, stop events first', () => {
  it('keeps everything in order below its capacity', () => {
    const o = new EventOutbox(3);
    o.hold(ev('transition', 1)); o.hold(ev('estop-received', 2, true)); o.hold(ev('reset-refused', 3));
    expect(ids(o.drain().events)).toEqual(['transition:1', 'estop-received:2', 'reset-refused:3']);
    expect(o.held).toBe(0);
  });

  it('when full drops the oldest routine event, never a stop event while a routine one is held, and counts it', () => {
    const o = new EventOutbox(3);
    o.hold(ev('estop-received', 1, true)); o.hold(ev('reset-refused', 2)); o.hold(ev('resume-refused', 3));
    o.hold(ev('fleet-latch', 4, true)); // drops reset-refused:2
    o.hold(ev('reset-refused', 5)); // drops resume-refused:3
    const { events, drops } = o.drain();
    expect(ids(events)).toEqual(['estop-received:1', 'fleet-latch:4', 'reset-refused:5']);
    expect(drops).toEqual({ dropped: 2, droppedStop: 0, kinds: { 'reset-refused': 1, 'resume-refused': 1 } });
    expect(o.drain().drops.dropped).toBe(0); // reported once
    expect(o.dropped).toBe(2);
  });

  it('full of stop events: a routine newcomer is the one dropped; a stop newcomer replaces the oldest stop event', () => {
    const o = new EventOutbox(2);
    o.hold(ev('estop-received', 1, true)); o.hold(ev('estop-received', 2, true));
    o.hold(ev('reset-refused', 3));
    o.hold(ev('deadman-expired', 4, true));
    const { events, drops } = o.drain();
    expect(ids(events)).toEqual(['estop-received:2', 'deadman-expired:4']);
    expect(drops).toEqual({ dropped: 2, droppedStop: 1, kinds: { 'reset-refused': 1, 'estop-received': 1 } });
  });

  it('classifies stop-related events', () => {
    expect(isStopEvent({ kind: 'estop-received' })).toBe(true);
    expect(isStopEvent({ kind: 'mqtt-link-lost' })).toBe(true);
    expect(isStopEvent({ kind: 'transition', from: 'ACTIVE', to: 'ESTOP' })).toBe(true);
    expect(isStopEvent({ kind: 'transition', from: 'ESTOP', to: 'IDLE' })).toBe(true);
    expect(isStopEvent({ kind: 'transition', from: 'IDLE', to: 'ACTIVE' })).toBe(false);
    expect(isStopEvent({ kind: 'reset-refused' })).toBe(false);
  });

  it('random interleavings: bounded, every event kept or counted once, order kept, stop events outlive routine ones', () => {
    const violations: string[] = [];
    for (let run = 0; run < 200; run++) {
      const seed = 0x5eed + run;
      const r = rng(seed);
      const capacity = 1 + Math.floor(r() * 6);
      const o = new EventOutbox(capacity);
      let n = 0;
      let delivered = 0;
      let droppedReported = 0;
      const drain = (): void => {
        const { events, drops } = o.drain();
        const seq = events.map((e) => Number(e.payload.toString()));
        // Kept events come out in the order they went in.
        if (seq.some((v, i) => i > 0 && v < (seq[i - 1] as number))) violations.push(`seed ${seed}: order ${seq.join(',')}`);
        // A routine event is kept only if no stop event was dropped while it was held.
        if (drops.droppedStop > 0 && !events.every((e) => e.stop)) violations.push(`seed ${seed}: a stop event dropped while a routine one was kept`);
        delivered += events.length;
        droppedReported += drops.dropped;
      };
      const steps = 50 + Math.floor(r() * 100);
      for (let i = 0; i < steps; i++) {
        if (r() < 0.1) drain();
        else {
          const stop = r() < 0.3;
          o.hold(ev(stop ? 'estop-received' : 'transition', n++, stop));
        }
        if (o.held > capacity) violations.push(`seed ${seed}: ${o.held} held, capacity ${capacity}`);
      }
      drain();
      if (delivered + droppedReported !== n) violations.push(`seed ${seed}: ${delivered} delivered + ${droppedReported} dropped != ${n} held`);
      if (o.dropped !== droppedReported) violations.push(`seed ${seed}: dropped() ${o.dropped} != reported ${droppedReported}`);
    }
    expect(violations).toEqual([]);
  });
});
