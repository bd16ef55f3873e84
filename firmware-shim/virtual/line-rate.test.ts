/**
 * The line model: bytes reach the far end one byte time (10 bits) apart and in order, frames are
 * stamped with the arrival of their delimiter, a busy line queues, an idle one does not bank time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteTimeUs, RxLine, TxLine } from './line-rate.js';

function collect(line: RxLine, nowUs: number): { bytes: number[]; at: number }[] {
  const out: { bytes: number[]; at: number }[] = [];
  line.deliver(nowUs, (b, at) => out.push({ bytes: Array.from(b), at }));
  return out;
}

describe('RxLine', () => {
  it('delivers at the line rate: 115200 baud carries 11520 bytes a second', () => {
    const line = new RxLine(115_200);
    expect(line.byteUs).toBeCloseTo(1e6 / 11_520, 9);
    line.push(new Uint8Array(20_000).fill(1), 0);
    const got = collect(line, 1e6).reduce((n, p) => n + p.bytes.length, 0);
    expect(got).toBe(11_520);
    expect(line.pending).toBe(20_000 - 11_520);
  });

  it('cuts after each delimiter and stamps a frame with the arrival of its last byte', () => {
    const line = new RxLine(1_000_000); // 10 µs a byte
    line.push(Uint8Array.of(5, 6, 0, 7, 0, 8, 9), 100);
    // By 125, 5 and 6 have arrived (at 110 and 120): the start of a frame, handed over as it is.
    expect(collect(line, 125)).toEqual([{ bytes: [5, 6], at: 120 }]);
    expect(collect(line, 130)).toEqual([{ bytes: [0], at: 130 }]);
    // Up to 165: 7, 0 (150) and 8 (160) of an unfinished frame.
    expect(collect(line, 165)).toEqual([{ bytes: [7, 0], at: 150 }, { bytes: [8], at: 160 }]);
    expect(collect(line, 1000)).toEqual([{ bytes: [9], at: 170 }]);
    expect(line.pending).toBe(0);
  });

  it('queues bytes handed to a busy line behind the ones before, and does not bank idle time', () => {
    const line = new RxLine(1_000_000);
    line.push(Uint8Array.of(1, 1, 0), 0);
    line.push(Uint8Array.of(2, 0), 5); // the line is busy until 30
    expect(collect(line, 100)).toEqual([{ bytes: [1, 1, 0], at: 30 }, { bytes: [2, 0], at: 50 }]);
    expect(line.counters.maxQueueUs).toBeCloseTo(25, 9);
    // Idle from 50 to 1000: a byte handed over at 1000 still takes its 10 µs.
    line.push(Uint8Array.of(3, 0), 1000);
    expect(collect(line, 1015)).toEqual([{ bytes: [3], at: 1010 }]);
    expect(collect(line, 1020)).toEqual([{ bytes: [0], at: 1020 }]);
  });

  it('keeps every byte, in order, and never delivers one early (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ gapUs: fc.integer({ min: 0, max: 500 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }), { maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
      (pushes, steps) => {
        const line = new RxLine(460_800);
        const b = byteTimeUs(460_800);
        const sent: number[] = [];
        const got: number[] = [];
        let t = 0, lastAt = -Infinity, i = 0, pushAt = 0, earliest = -Infinity;
        const sink = (bytes: Uint8Array, at: number): void => {
          expect(at).toBeLessThanOrEqual(t + 1e-6); // arrived by now
          expect(at).toBeGreaterThanOrEqual(lastAt); // in order
          expect(at).toBeGreaterThanOrEqual(earliest + bytes.length * b - 1e-6); // no faster than the line
          earliest = at;
          lastAt = at;
          got.push(...bytes);
        };
        for (const step of steps) {
          while (i < pushes.length && pushAt + (pushes[i] as { gapUs: number }).gapUs <= t) {
            const p = pushes[i++] as { gapUs: number; bytes: Uint8Array };
            pushAt += p.gapUs;
            if (line.pending === 0 && earliest < pushAt) earliest = pushAt; // an idle line starts at the push
            line.push(p.bytes, pushAt);
            sent.push(...p.bytes);
          }
          t += step;
          line.deliver(t, sink);
        }
        line.deliver(t + 1e9, (bytes) => got.push(...bytes));
        expect(got).toEqual(sent);
      },
    ));
  });

  it('refuses a baud rate that is not a positive number, naming it', () => {
    expect(() => new RxLine(0)).toThrow(/line baud rate 0 must be a positive number/);
  });
});

describe('TxLine', () => {
  it('lets out bytes at the line rate from when they were queued', () => {
    const tx = new TxLine(115_200);
    tx.wake(1_000_000);
    expect(tx.allowance(1_000_000)).toBe(0);
    expect(tx.allowance(1_000_000 + 1e6)).toBe(11_520);
    tx.sent(150);
    expect(tx.allowance(1_000_000 + 150 * tx.byteUs)).toBe(0);
    // Idle for a second, then woken: no banked time.
    tx.wake(3_000_000);
    expect(tx.allowance(3_000_000)).toBe(0);
  });
});
