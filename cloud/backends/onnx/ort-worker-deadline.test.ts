import { afterEach, describe, expect, it } from 'vitest';
import { slowModel } from '../../testing/slow-model.js';
import { OrtDeadlineError, OrtWorker, type OrtWorkerOptions } from './ort-worker-client.js';

const workers: OrtWorker[] = [];
afterEach(async () => { await Promise.all(workers.splice(0).map((w) => w.close())); });

const WIDTH = 256;
async function start(model: Uint8Array, o: Partial<OrtWorkerOptions> = {}): Promise<OrtWorker> {
  const w = await OrtWorker.start(model, { providers: ['cpu'], output: 'latent', intraOpThreads: 1, ...o });
  workers.push(w);
  return w;
}
const feeds = (B = 1): { name: string; dims: number[]; data: Float32Array }[] => [{ name: 'state', dims: [B, WIDTH], data: new Float32Array(B * WIDTH).fill(0.5) }];
const outcome = (p: Promise<Float32Array>): Promise<string> => p.then(() => 'ok', (e: Error) => (e instanceof OrtDeadlineError ? `dropped: ${e.message}` : `failed: ${e.message}`));

describe('ONNX worker: never starts work whose deadline passed; late answers dropped; queue bounded', () => {
  const quick = slowModel({ width: WIDTH, layers: 1 });

  it('refuses runs beyond maxQueue at once, counted (one runs, maxQueue wait)', async () => {
    const w = await start(quick, { maxQueue: 3 });
    const runs = Array.from({ length: 6 }, () => outcome(w.run(feeds(), { deadlineMs: Number.POSITIVE_INFINITY })));
    expect(w.stats()).toMatchObject({ running: 1, queued: 3, queueFull: 2 });
    const out = await Promise.all(runs);
    expect(out.slice(0, 4)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(out.slice(4)).toEqual(Array(2).fill('dropped: the ONNX model is busy: 3 runs already wait (the limit); run refused'));
    expect(w.stats()).toMatchObject({ completed: 4, queueFull: 2, expiredBeforeRun: 0, lateAnswers: 0, queued: 0, running: 0 });
  });

  it('drops a waiting run whose deadline passes before the worker is free, without starting it', async () => {
    let now = 0;
    const w = await start(quick, { now: () => now });
    const a = outcome(w.run(feeds(), { deadlineMs: 1000 }));
    const b = outcome(w.run(feeds(), { deadlineMs: 10 }));
    const c = outcome(w.run(feeds(), { deadlineMs: 1000 }));
    now = 20; // B's deadline passes while A runs
    expect(await Promise.all([a, b, c])).toEqual(['ok', 'dropped: waited 20 ms for the model, past its deadline; not started', 'ok']);
    expect(w.stats()).toMatchObject({ completed: 2, expiredBeforeRun: 1, lateAnswers: 0 });
  });

  it('drops an answer that comes after its deadline, counted', async () => {
    let now = 0;
    const w = await start(quick, { now: () => now });
    // Ten real seconds left when it reaches the worker (which checks on the real clock), but by
    // the client's clock the deadline passes while it runs.
    const a = outcome(w.run(feeds(), { deadlineMs: 10_000 }));
    now = 10_025;
    expect(await a).toBe('dropped: the model answered 25 ms after the deadline; answer dropped');
    expect(w.stats()).toMatchObject({ completed: 0, lateAnswers: 1 });
  });

  it('an aborted caller: a waiting run is removed unstarted, a running one has its answer dropped', async () => {
    const w = await start(quick);
    const first = new AbortController();
    const second = new AbortController();
    const a = outcome(w.run(feeds(), { deadlineMs: Number.POSITIVE_INFINITY, signal: first.signal }));
    const b = outcome(w.run(feeds(), { deadlineMs: Number.POSITIVE_INFINITY, signal: second.signal }));
    const c = outcome(w.run(feeds(), { deadlineMs: Number.POSITIVE_INFINITY }));
    first.abort();
    second.abort();
    expect(await Promise.all([a, b, c])).toEqual([
      'dropped: the run was aborted while running; its answer will be dropped', 'dropped: the run was aborted before it started', 'ok',
    ]);
    expect(w.stats()).toMatchObject({ completed: 1, expiredBeforeRun: 1, lateAnswers: 1 });
  });

  it('a slow model offered 10x its capacity: the queue never exceeds its bound, every run settles once, and most are dropped unstarted', async () => {
    const MAX_QUEUE = 4;
    const w = await start(slowModel({ width: 512, layers: 24 }), { maxQueue: MAX_QUEUE });
    const B = 32;
    const batch = (): { name: string; dims: number[]; data: Float32Array }[] => [{ name: 'state', dims: [B, 512], data: new Float32Array(B * 512) }];
    // Capacity: the run time of one batch, measured here (warm).
    await w.run(batch(), { deadlineMs: Number.POSITIVE_INFINITY });
    const t0 = performance.now();
    await w.run(batch(), { deadlineMs: Number.POSITIVE_INFINITY });
    const runMs = Math.max(5, performance.now() - t0);
    const before = w.stats();
    // Offer a burst of 10 runs every run time, 20 times, each run useful for 2 run times.
    const settled: Promise<string>[] = [];
    let maxHeld = 0;
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        for (let k = 0; k < 10; k++) {
          settled.push(outcome(w.run(batch(), { deadlineMs: performance.now() + 2 * runMs })));
          const s = w.stats();
          maxHeld = Math.max(maxHeld, s.queued + s.running);
        }
        if (settled.length >= 200) { clearInterval(timer); done(); }
      }, runMs);
    });
    const out = await Promise.all(settled);
    const after = w.stats();
    const ok = out.filter((x) => x === 'ok').length;
    const dropped = out.filter((x) => x.startsWith('dropped')).length;
    expect(ok + dropped).toBe(200); // nothing failed otherwise, everything settled
    expect(maxHeld).toBeLessThanOrEqual(MAX_QUEUE + 1);
    expect(after.completed - before.completed).toBe(ok);
    expect((after.expiredBeforeRun - before.expiredBeforeRun) + (after.queueFull - before.queueFull) + (after.lateAnswers - before.lateAnswers)).toBe(dropped);
    // 10x overload: at most about one run in ten can complete; far from all of them.
    expect(dropped).toBeGreaterThan(ok);
    expect(after).toMatchObject({ queued: 0, running: 0 });
  }, 120_000);
});
