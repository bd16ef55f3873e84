import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { InferRequest } from '../backend.js';
import { testHello, testObservation } from '../../testing/brain-test-client.js';
import { frameOf, grayJpeg, HANG_MARK, withComment } from '../../testing/test-jpegs.js';
import { ImagePreparer, type ImageDecodingOptions } from './image-preparer.js';

const HANGING_WORKER = fileURLToPath(new URL('../../testing/hanging-decode-worker.mjs', import.meta.url));
const SPEC = { height: 4, width: 4, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;

const preparers: ImagePreparer[] = [];
afterEach(async () => { await Promise.all(preparers.splice(0).map((p) => p.close())); });
function preparer(o: ImageDecodingOptions): ImagePreparer {
  const p = new ImagePreparer(SPEC, undefined, o);
  preparers.push(p);
  return p;
}

const request = (robot: string, data: Uint8Array | null): InferRequest => ({
  session: { sessionId: `s-${robot}`, hello: testHello(robot) },
  observation: testObservation(1, [0, 0, 0], { frames: data === null ? [] : [frameOf(data)] }),
  task: { taskId: '', instruction: '' },
});

describe('image preparer: each robot gets a bounded share of decoder time', () => {
  it('a robot whose frame used up its budget is refused (naming the budget) until it has earned more; another robot is not', async () => {
    let now = 0;
    const p = preparer({ workerFile: HANGING_WORKER, decodeTimeoutMs: 300, budgetMsPerS: 100, burstMs: 100, now: () => now });
    const hang = withComment(grayJpeg(0, 64, 48), HANG_MARK);
    // The stopped decode is charged its deadline: 100 - 300 = 200 ms over.
    expect(await p.prepare(request('a', hang))).toMatchObject({ ok: false, reason: 'image-deadline' });
    expect(await p.prepare(request('a', grayJpeg(10)))).toEqual({
      ok: false, code: 'BAD_OBSERVATION', reason: 'image-budget',
      message: 'camera "wrist": this robot\'s frames used more decoder time than its budget of 100 ms per second (200 ms over); frame not decoded, next in 2000 ms; send smaller frames',
    });
    expect((await p.prepare(request('b', grayJpeg(10)))).ok).toBe(true);
    now = 1999;
    expect(await p.prepare(request('a', grayJpeg(10)))).toMatchObject({ ok: false, reason: 'image-budget' });
    now = 2001;
    expect((await p.prepare(request('a', grayJpeg(10)))).ok).toBe(true);
    expect(p.stats().refused['image-budget']).toBe(2);
  });

  it('frames refused from their header, and observations without a frame, cost nothing', async () => {
    const p = preparer({ budgetMsPerS: 1, burstMs: 1, now: () => 0 });
    for (let i = 0; i < 5; i++) expect(await p.prepare(request('a', grayJpeg(1).subarray(0, 50)))).toMatchObject({ reason: 'image-truncated' });
    expect(await p.prepare(request('a', null))).toMatchObject({ ok: true, request: { prepared: { image: null } } });
    expect((await p.prepare(request('a', grayJpeg(200)))).ok).toBe(true);
  });

  it('holds at most one frame of a robot in the decoder: a second one is refused while the first decodes; other robots go on', async () => {
    const p = preparer({ workerFile: HANGING_WORKER, workers: 2, decodeTimeoutMs: 300, budgetMsPerS: 100_000, burstMs: 100_000, now: () => 0 });
    const first = p.prepare(request('a', withComment(grayJpeg(0, 64, 48), HANG_MARK)));
    expect(await p.prepare(request('a', grayJpeg(10)))).toEqual({
      ok: false, code: 'OVERLOADED', reason: 'decoder-busy',
      message: 'camera "wrist": this robot\'s previous frame is still being decoded (one frame per robot at a time); frame dropped',
    });
    expect((await p.prepare(request('b', grayJpeg(10)))).ok).toBe(true);
    expect(await first).toMatchObject({ ok: false, reason: 'image-deadline' });
    expect((await p.prepare(request('a', grayJpeg(10)))).ok).toBe(true);
    expect(p.stats().refused['decoder-busy']).toBe(1);
  });

  it('forgets a robot\'s budget when its session ends', async () => {
    let now = 0;
    const p = preparer({ workerFile: HANGING_WORKER, decodeTimeoutMs: 200, budgetMsPerS: 10, burstMs: 50, now: () => now });
    await p.prepare(request('a', withComment(grayJpeg(0, 64, 48), HANG_MARK)));
    expect(await p.prepare(request('a', grayJpeg(3)))).toMatchObject({ reason: 'image-budget' });
    p.forget('s-a');
    now = 1; // a new session of the robot starts with a full bucket
    expect((await p.prepare(request('a', grayJpeg(3)))).ok).toBe(true);
  });
});
