import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { frameOf, grayJpeg, HANG_MARK, noiseJpeg, withComment, withDeclaredSize } from '../../testing/test-jpegs.js';
import { DEFAULT_DECODER_POOL, DEFAULT_IMAGE_LIMITS, ImageDecoderPool, type DecodeOutcome, type DecoderPoolOptions, type ImageSpec } from './image-decoder-pool.js';

const SPEC: ImageSpec = { height: 4, width: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const HANGING_WORKER = fileURLToPath(new URL('../../testing/hanging-decode-worker.mjs', import.meta.url));

const pools: ImageDecoderPool[] = [];
afterEach(async () => { await Promise.all(pools.splice(0).map((p) => p.close())); });
function pool(o: Partial<DecoderPoolOptions> = {}): ImageDecoderPool {
  const p = new ImageDecoderPool({ ...DEFAULT_IMAGE_LIMITS, ...DEFAULT_DECODER_POOL, ...o });
  pools.push(p);
  return p;
}

function refusal(o: DecodeOutcome): { reason: string; message: string } {
  if (o.ok) throw new Error('expected a refusal, got a decoded frame');
  return { reason: o.reason, message: o.message };
}

describe('image decoder pool: limits from the header, a deadline per decode, a bounded queue', () => {
  it('decodes, resizes and normalises a frame in a worker', async () => {
    const out = await pool().decode(frameOf(grayJpeg(255, 16, 12)), SPEC);
    if (!out.ok) throw new Error(out.message);
    expect(out.nchw).toHaveLength(3 * 4 * 4);
    for (const v of out.nchw) expect(v).toBeCloseTo(1, 2); // (255/255 - 0.5) / 0.5
  });

  it('refuses a 40 MP JPEG from its header, without decoding, naming the size and the limit', async () => {
    const p = pool();
    const big = frameOf(withDeclaredSize(grayJpeg(0, 16, 16), 8000, 5000), 'front');
    expect(refusal(await p.decode(big, SPEC))).toEqual({
      reason: 'image-pixels', message: 'camera "front": JPEG of 8000 x 5000 = 40.0 MP exceeds the limit of 2.1 MP (2073600 pixels)',
    });
    expect(p.stats()).toMatchObject({ decoded: 0, refused: { 'image-pixels': 1 }, busyWorkers: 0 });
  });

  it('refuses a JPEG bomb (a 700-byte file declaring 65535 x 65535)', async () => {
    const bomb = withDeclaredSize(grayJpeg(0, 8, 8), 65535, 65535);
    expect(refusal(await pool().decode(frameOf(bomb), SPEC))).toMatchObject({ reason: 'image-pixels', message: expect.stringContaining('65535 x 65535 = 4294.8 MP') });
  });

  it('refuses a truncated JPEG, naming where it ends', async () => {
    const whole = noiseJpeg(64, 64);
    const cut = whole.subarray(0, Math.floor(whole.length / 2)); // inside the image data
    expect(refusal(await pool().decode(frameOf(cut), SPEC))).toEqual({
      reason: 'image-truncated', message: `camera "wrist": not a decodable JPEG: ends after ${cut.length} bytes without the end-of-image marker (FF D9)`,
    });
  });

  it('refuses a frame over the byte limit and a frame that is not JPEG', async () => {
    const p = pool({ maxBytes: 100 });
    expect(refusal(await p.decode(frameOf(grayJpeg(0, 64, 64)), SPEC)).message).toMatch(/JPEG of \d+ bytes exceeds the limit of 100 bytes/);
    expect(refusal(await p.decode({ ...frameOf(grayJpeg(0)), encoding: 'png' }, SPEC))).toMatchObject({ reason: 'image-encoding', message: expect.stringContaining('"png" is not decoded') });
  });

  it('stops a decode past its deadline by terminating its worker, and decodes the next frame on a new one', async () => {
    const p = pool({ workers: 1, decodeTimeoutMs: 300, workerFile: HANGING_WORKER });
    const hostile = frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK), 'cam-a');
    const r = refusal(await p.decode(hostile, SPEC));
    expect(r).toEqual({ reason: 'image-deadline', message: 'camera "cam-a": decoding the 64 x 48 JPEG took longer than 300 ms; stopped' });
    expect(p.stats().terminated).toBe(1);
    const next = await p.decode(frameOf(grayJpeg(0)), SPEC);
    expect(next.ok).toBe(true);
  });

  it('a decode that never ends holds one worker only: other frames are decoded meanwhile', async () => {
    const p = pool({ workers: 2, decodeTimeoutMs: 60_000, workerFile: HANGING_WORKER });
    const order: string[] = [];
    const hostile = p.decode(frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK)), SPEC).then((o) => { order.push(`hostile:${o.ok ? 'ok' : o.reason}`); });
    for (let i = 0; i < 5; i++) {
      const o = await p.decode(frameOf(grayJpeg(i * 40)), SPEC);
      order.push(`honest:${o.ok ? 'ok' : o.reason}`);
    }
    expect(p.stats()).toMatchObject({ busyWorkers: 1, decoded: 5 });
    await p.close();
    await hostile;
    expect(order).toEqual([...Array<string>(5).fill('honest:ok'), 'hostile:decoder-closed']);
  });

  it('bounds its queue: frames beyond it are refused at once', async () => {
    const p = pool({ workers: 1, maxQueue: 2, decodeTimeoutMs: 60_000, workerFile: HANGING_WORKER });
    const hang = frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK));
    // Wait until the one worker holds the hanging frame, so that the others queue.
    const first = p.decode(hang, SPEC);
    while (p.stats().busyWorkers === 0) await new Promise((r) => setImmediate(r));
    const queued = [p.decode(frameOf(grayJpeg(1)), SPEC), p.decode(frameOf(grayJpeg(2)), SPEC)];
    expect(p.stats().queued).toBe(2);
    expect(refusal(await p.decode(frameOf(grayJpeg(3)), SPEC))).toEqual({ reason: 'decoder-busy', message: 'camera "wrist": the image decoder is busy (2 frames waiting, the limit); frame dropped' });
    // Closing refuses the running decode and everything still waiting.
    await p.close();
    expect((await first).ok).toBe(false);
    expect((await Promise.all(queued)).map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['decoder-closed', 'decoder-closed']);
  });

  it('drops queued frames whose wait passed queueWaitMs instead of starting them', async () => {
    let now = 0;
    const p = pool({ workers: 1, maxQueue: 4, queueWaitMs: 100, decodeTimeoutMs: 200, workerFile: HANGING_WORKER, now: () => now });
    const first = p.decode(frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK)), SPEC);
    while (p.stats().busyWorkers === 0) await new Promise((r) => setImmediate(r));
    const late = p.decode(frameOf(grayJpeg(1)), SPEC);
    now = 101; // by the pool's clock the queued frame has waited past its limit when the worker frees
    expect(refusal(await first).reason).toBe('image-deadline');
    expect(refusal(await late)).toEqual({ reason: 'decoder-busy', message: 'camera "wrist": waited 101 ms for the image decoder (limit 100 ms); frame dropped before decoding' });
    expect(p.stats().refused['decoder-busy']).toBe(1);
  });

  it('decodes a real large frame within the limits (a noisy 640 x 480 JPEG)', async () => {
    const out = await pool({ decodeTimeoutMs: 30_000 }).decode(frameOf(noiseJpeg(640, 480)), SPEC);
    expect(out.ok).toBe(true);
  });
});
