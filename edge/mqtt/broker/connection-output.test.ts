/**
 * The broker's output side of a connection: writes of one turn leave together, a reader that
 * stopped is reported, one that is slow but moving is not, and what is waiting counts reserved
 * deliveries. On plain Writables whose sink the test controls.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { coalesceWrites, watchOutput, type OutputLimits } from './connection-output.js';

/** A sink that counts the writes that reach it; `complete` decides when each write's callback runs. */
function sink(opts: { highWaterMark?: number; complete?: (cb: () => void) => void } = {}): Writable & { calls: number; bytes: number } {
  const complete = opts.complete ?? ((cb: () => void) => cb());
  const w = new Writable({
    highWaterMark: opts.highWaterMark ?? 16 * 1024,
    writev(chunks, cb) { w.calls++; for (const c of chunks) w.bytes += (c.chunk as Buffer).length; complete(() => cb()); },
    write(chunk: Buffer, _enc, cb) { w.calls++; w.bytes += chunk.length; complete(() => cb()); },
  }) as Writable & { calls: number; bytes: number };
  w.calls = 0;
  w.bytes = 0;
  return w;
}

/** Limits with only the stall verdict at work. */
const stall = (stallMs: number): OutputLimits => ({ stallMs, maxWaitingBytes: 0 });

/** Writes one small packet from each of `n` separate immediates, as aedes delivers, and waits until all left. */
async function deliverFromImmediates(w: Writable, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => setImmediate(() => { w.write(Buffer.alloc(40, 1)); resolve(); }))));
  await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}

describe('coalesceWrites', () => {
  it('sends what 50 deliveries of one turn wrote in one write, where the bare stream makes 50', async () => {
    const bare = sink();
    await deliverFromImmediates(bare, 50);
    expect(bare.calls).toBe(50);
    const held = sink();
    coalesceWrites(held);
    await deliverFromImmediates(held, 50);
    expect(held.bytes).toBe(50 * 40);
    expect(held.calls).toBe(1);
  });

  it('does not hold a stream the caller says must not wait (a robot\'s commands)', async () => {
    const w = sink();
    coalesceWrites(w, () => false);
    await deliverFromImmediates(w, 20);
    expect(w.calls).toBe(20);
  });

  it('leaves a stream that is still writing alone, so that it drains and says so', async () => {
    // Writes complete one immediate later; a small buffer makes write() return false.
    const w = sink({ highWaterMark: 100, complete: (cb) => setImmediate(cb) });
    coalesceWrites(w);
    let drains = 0;
    w.on('drain', () => { drains++; });
    for (let round = 0; round < 20; round++) {
      await new Promise<void>((resolve) => setImmediate(() => { for (let i = 0; i < 5; i++) w.write(Buffer.alloc(40)); resolve(); }));
    }
    await new Promise<void>((resolve) => { if (w.writableLength === 0) resolve(); else w.once('drain', () => resolve()); });
    expect(w.bytes).toBe(20 * 5 * 40);
    expect(drains).toBeGreaterThan(0);
    expect(w.writableLength).toBe(0);
  });
});

describe('watchOutput', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('reports a reader that takes nothing for stallMs, once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const w = sink({ highWaterMark: 100, complete: () => undefined }); // never completes: a frozen reader
    const onStall = vi.fn();
    watchOutput(w, stall(250), onStall);
    w.write(Buffer.alloc(200));
    w.write(Buffer.alloc(200));
    vi.advanceTimersByTime(249);
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10);
    expect(onStall).toHaveBeenCalledTimes(1);
    expect(onStall).toHaveBeenCalledWith('stalled');
    w.write(Buffer.alloc(200));
    vi.advanceTimersByTime(1000);
    expect(onStall).toHaveBeenCalledTimes(1);
  });

  it('keeps a reader that is slow but takes something within every stallMs', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    // Each write completes 200 ms after it started; the writer keeps the buffer full for 5 s.
    const w = sink({ highWaterMark: 100, complete: (cb) => setTimeout(cb, 200) });
    const onStall = vi.fn();
    const out = watchOutput(w, stall(250), onStall);
    for (let t = 0; t < 5000; t += 50) {
      w.write(Buffer.alloc(100));
      vi.advanceTimersByTime(50);
    }
    expect(onStall).not.toHaveBeenCalled();
    expect(out.accepted).toBeGreaterThan(0);
    expect(w.writableLength).toBeGreaterThan(0);
  });

  it('takes no verdict while nothing waits, and never with stallMs 0', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const idle = sink();
    const onIdleStall = vi.fn();
    watchOutput(idle, stall(250), onIdleStall);
    idle.write(Buffer.alloc(1000));
    vi.advanceTimersByTime(5000);
    expect(onIdleStall).not.toHaveBeenCalled();
    const frozen = sink({ highWaterMark: 100, complete: () => undefined });
    const never = vi.fn();
    watchOutput(frozen, stall(0), never);
    frozen.write(Buffer.alloc(200));
    vi.advanceTimersByTime(5000);
    expect(never).not.toHaveBeenCalled();
  });

  it('counts reserved deliveries as waiting until they are written', () => {
    const w = sink({ complete: () => undefined });
    const out = watchOutput(w, stall(250), () => undefined);
    out.reserve(300);
    expect(out.waiting).toBe(300);
    w.write(Buffer.alloc(100)); // in flight, and 100 of the reservation written
    expect(out.waiting).toBe(100 + 200);
    w.write(Buffer.alloc(500));
    expect(out.waiting).toBe(600); // the reservation never goes below zero
  });

  it('never tells the writer to wait, and gives up a reader whose backlog passes maxWaitingBytes, once', () => {
    // aedes stops reading a publisher while any subscriber's write() says the stream is full.
    const w = sink({ highWaterMark: 100, complete: () => undefined });
    const onGone = vi.fn();
    watchOutput(w, { stallMs: 0, maxWaitingBytes: 1000 }, onGone);
    const answers: boolean[] = [];
    for (let i = 0; i < 5; i++) answers.push(w.write(Buffer.alloc(200)));
    expect(answers).toEqual([true, true, true, true, true]);
    expect(w.writableLength).toBe(1000);
    expect(onGone).not.toHaveBeenCalled();
    expect(w.write(Buffer.alloc(1))).toBe(true);
    expect(onGone).toHaveBeenCalledTimes(1);
    expect(onGone).toHaveBeenCalledWith('overflow');
    w.write(Buffer.alloc(5000));
    expect(onGone).toHaveBeenCalledTimes(1);
  });

  it('refuses a stall time that is not a whole number of ms', () => {
    expect(() => watchOutput(sink(), stall(2.5), () => undefined)).toThrow(/stallMs=2.5/);
    expect(() => watchOutput(sink(), stall(-1), () => undefined)).toThrow(/stallMs=-1/);
    expect(() => watchOutput(sink(), { stallMs: 250, maxWaitingBytes: 1.5 }, () => undefined)).toThrow(/maxWaitingBytes=1.5/);
  });
});
