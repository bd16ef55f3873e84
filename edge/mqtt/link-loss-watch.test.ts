import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { LinkLossWatch, type LinkLossInfo } from './link-loss-watch.js';

function rig(timeoutMs = 500): { clock: ManualClock; watch: LinkLossWatch; fired: { atUs: number; info: LinkLossInfo }[] } {
  const clock = new ManualClock(0);
  const fired: { atUs: number; info: LinkLossInfo }[] = [];
  const watch = new LinkLossWatch({ clock, timeoutMs, onLost: (info) => fired.push({ atUs: clock.nowUs(), info }) });
  return { clock, watch, fired };
}

describe('LinkLossWatch', () => {
  it('fires exactly timeoutMs after the loss, once per outage', () => {
    const { clock, watch, fired } = rig(500);
    watch.start();
    watch.connected();
    clock.advance(1000);
    watch.disconnected();
    clock.advance(499.999);
    expect(fired).toEqual([]);
    clock.advance(0.001);
    expect(fired).toEqual([{ atUs: 1_500_000, info: { timeoutMs: 500, downForMs: 500 } }]);
    expect(watch.tripped).toBe(true);
    watch.disconnected(); // a failed reconnect attempt: the same outage
    clock.advance(10_000);
    expect(fired).toHaveLength(1);
    watch.connected();
    expect(watch.tripped).toBe(false);
    watch.disconnected();
    clock.advance(500);
    expect(fired.map((f) => f.atUs)).toEqual([1_500_000, 12_000_000]);
  });

  it('a reconnect inside the timeout cancels it; repeated closes do not restart the count', () => {
    const { clock, watch, fired } = rig(500);
    watch.start();
    watch.connected();
    watch.disconnected();
    clock.advance(300);
    watch.disconnected();
    clock.advance(199);
    watch.connected();
    clock.advance(5000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('counts from start() when the first connection does not come', () => {
    const { clock, watch, fired } = rig(500);
    clock.advance(100);
    watch.start();
    clock.advance(500);
    expect(fired).toEqual([{ atUs: 600_000, info: { timeoutMs: 500, downForMs: 500 } }]);
  });

  it('stop() is not a loss', () => {
    const { clock, watch, fired } = rig(500);
    watch.start();
    watch.connected();
    watch.stop();
    watch.disconnected();
    clock.advance(5000);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('refuses a timeout that is not a positive finite number, naming it', () => {
    for (const t of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => rig(t)).toThrow(new RegExp(`timeoutMs=${String(t)}`));
    }
  });

  /**
   * Model: the connection is a sequence of up/down edges and waits. Invariant, in words: the watch
   * fires exactly once for each outage that lasts at least timeoutMs (counting "not yet connected
   * after start" as an outage), at its start + timeoutMs to the microsecond, and never otherwise.
   */
  it('model: fires once per outage of at least the timeout, at its start + timeout, never otherwise', () => {
    type Step = { kind: 'up' } | { kind: 'down' } | { kind: 'wait'; ms: number };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'up' }),
      fc.constant<Step>({ kind: 'down' }),
      fc.integer({ min: 0, max: 1200 }).map<Step>((ms) => ({ kind: 'wait', ms })),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(step, { maxLength: 60 }), (timeoutMs, steps) => {
      const { clock, watch, fired } = rig(timeoutMs);
      const expected: number[] = [];
      let downSince: number | null = 0; // not connected at start
      let firedThisOutage = false;
      watch.start();
      const due = (): void => {
        if (downSince !== null && !firedThisOutage && clock.nowUs() >= downSince + timeoutMs * 1000) {
          expected.push(downSince + timeoutMs * 1000);
          firedThisOutage = true;
        }
      };
      for (const s of steps) {
        if (s.kind === 'up') {
          watch.connected();
          downSince = null;
          firedThisOutage = false;
        } else if (s.kind === 'down') {
          watch.disconnected();
          if (downSince === null) downSince = clock.nowUs();
        } else {
          clock.advance(s.ms);
          due();
        }
      }
      expect(fired.map((f) => f.atUs)).toEqual(expected);
      for (const f of fired) expect(f.info.downForMs).toBe(timeoutMs);
      expect(clock.pending).toBe(downSince !== null && !firedThisOutage ? 1 : 0);
    }), { numRuns: 300 });
  });
});
