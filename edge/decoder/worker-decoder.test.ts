/**
 * The decoder in a real worker thread, started from the TypeScript sources (worker-entry.ts):
 * decoding there leaves the main thread's timers running; a newer request supersedes a running
 * one between denoising steps; cancel() and close() resolve outcomes as data; load failures in
 * the worker reject with the DecoderError's code. The same contract suite runs on the in-thread
 * executor where it applies (no timer guarantee there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionDecoder } from './action-decoder.js';
import { InThreadDecoder } from './in-thread-decoder.js';
import { buildReferenceDecoder } from './models/reference-decoder.js';
import { referenceInputs, referenceOptions } from './testing/reference-fixture.js';
import { tinyDenoiser } from './testing/tiny-models.js';
import { WorkerDecoder } from './worker-decoder.js';

const B = 256;
const model = buildReferenceDecoder(referenceOptions('velocity'));
const { latent, state } = referenceInputs(7);

const EXECUTORS: [string, () => Promise<ActionDecoder>][] = [
  ['worker', () => WorkerDecoder.load({ bytes: model }, { batch: B, providers: ['tensorrt', 'cuda', 'cpu'] })],
  ['in-thread', () => InThreadDecoder.load(model, { batch: B, providers: ['tensorrt', 'cuda', 'cpu'] })],
];

describe.each(EXECUTORS)('%s executor', (_name, load) => {
  let d: ActionDecoder;
  beforeAll(async () => {
    d = await load();
  }, 30_000);
  afterAll(async () => {
    await d.close();
  });

  it('reports the provider actually used after the fallbacks', () => {
    expect(d.info.provider).toBe('cpu');
    expect(d.info.fallbacks.map((f) => f.provider)).toEqual(['tensorrt', 'cuda']);
    expect(d.info.batch).toBe(B);
  });

  it('decodes a chunk in robot units, reproducibly for a seed', async () => {
    const a = await d.decode({ latent, state, seed: 3, steps: 4 }).outcome;
    const b = await d.decode({ latent, state, seed: 3, steps: 4 }).outcome;
    expect(a.status).toBe('done');
    if (a.status !== 'done' || b.status !== 'done') return;
    expect(a.actions.length).toBe(B * 16 * 7);
    expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
    expect(a.timing.evaluations).toBe(4);
  });

  it('a newer request supersedes a running one between denoising steps', async () => {
    const first = d.decode({ latent, state, steps: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    const second = d.decode({ latent, state, steps: 2 });
    const [o1, o2] = await Promise.all([first.outcome, second.outcome]);
    expect(o1).toMatchObject({ status: 'cancelled', reason: 'superseded' });
    expect(o1.status === 'cancelled' ? o1.evaluations : -1).toBeLessThan(1000);
    expect(o2.status).toBe('done');
  });

  it('cancel(id) stops that request; queued requests that were superseded never run', async () => {
    const a = d.decode({ latent, state, steps: 1000 });
    const b = d.decode({ latent, state, steps: 1000 }, { supersede: false });
    d.cancel(b.id);
    const [oa, ob] = await Promise.all([a.outcome, b.outcome]);
    expect(oa).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(ob).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
  });
});

describe('worker thread isolation', () => {
  let d: WorkerDecoder;
  beforeAll(async () => {
    d = await WorkerDecoder.load({ bytes: model }, { batch: B });
  }, 30_000);
  afterAll(async () => {
    await d.close();
  });

  it('a long decode in the worker does not stall timers on the main thread', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 5);
    const o = await d.decode({ latent, state, steps: 300, sampler: 'heun' }).outcome;
    clearInterval(timer);
    expect(o.status).toBe('done');
    if (o.status !== 'done') return;
    // A decode long enough to matter; had it run on this thread, no timer callback could have run
    // until it ended. How late the callbacks were is the benchmark's business, not this test's.
    expect(o.timing.decodeMs).toBeGreaterThan(150);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('close() resolves what is pending as cancelled, and later requests as closed', async () => {
    const running = d.decode({ latent, state, steps: 1000 });
    await new Promise((r) => setTimeout(r, 10));
    await d.close();
    expect((await running.outcome).status).toBe('cancelled');
    expect(await d.decode({ latent, state }).outcome).toMatchObject({ status: 'cancelled', reason: 'closed' });
  });

  it('a model refused in the worker rejects load with its code', async () => {
    await expect(WorkerDecoder.load({ bytes: tinyDenoiser({ meta: { 'spinal.horizon': undefined } }) }))
      .rejects.toMatchObject({ name: 'DecoderError', code: 'missing-metadata' });
  }, 30_000);

  it('NaN from the model in the worker is a failed outcome, not actions', async () => {
    const w = await WorkerDecoder.load({ bytes: tinyDenoiser() });
    const o = await w.decode({ latent: new Float32Array([-1, 0]), state: new Float32Array(3) }).outcome;
    expect(o.status === 'failed' && o.error.code).toBe('non-finite');
    await w.close();
  }, 30_000);
});
