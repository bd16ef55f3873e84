/**
 * One robot's hostile camera frames against a brain serving an image model (ONNX backend): each is
 * refused to that robot with an error naming the value, counted by reason, and while one is being
 * decoded the other robots' observations still get their plans (decoding is off the event loop and
 * holds one decoder worker per robot at most).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CameraFrame } from '../../proto/brain/index.js';
import { OnnxBackend } from '../backends/onnx/onnx-backend.js';
import type { ImageDecodingOptions } from '../backends/images/image-preparer.js';
import { brainServerHarness } from '../testing/brain-server-harness.js';
import { testHello, testObservation, type TestSession } from '../testing/brain-test-client.js';
import { frameOf, grayJpeg, HANG_MARK, noiseJpeg, withComment, withDeclaredSize } from '../testing/test-jpegs.js';
import { tinyPolicyModel } from '../testing/tiny-policy-model.js';

const SPACE = 'acme.policy/1';
const HANGING_WORKER = fileURLToPath(new URL('../testing/hanging-decode-worker.mjs', import.meta.url));
const model = tinyPolicyModel({ stateDim: 3, instructionDim: 8, latentDim: 5, image: { height: 8, width: 8 }, latentSpace: SPACE });
const { start, session } = brainServerHarness({ robots: ['r1', 'r2'], drainTimeoutMs: 1000, backendTimeoutMs: 5000 });

async function brain(imageDecoding: ImageDecodingOptions): Promise<{ address: string; value: (reason: string) => Promise<number>; dropped: (kind: string) => Promise<number> }> {
  const backend = await OnnxBackend.load({ model: model.bytes, imageDecoding });
  const { server, address } = await start({ backend });
  return {
    address,
    value: (reason) => server.metrics.value('spinal_brain_observations_rejected_total', { reason }),
    dropped: (kind) => server.metrics.value('spinal_brain_backend_dropped_total', { kind }),
  };
}

async function open(address: string, robot: string): Promise<TestSession> {
  const s = session(address);
  s.hello(testHello(robot, { latentSpace: SPACE, latentDim: 5 }));
  await s.next('welcome');
  return s;
}

const observe = (s: TestSession, seq: number, frame: CameraFrame): void => s.observe(testObservation(seq, [0, 0, 0], { frames: [frame] }));

describe('hostile camera frames are refused to the robot that sent them', () => {
  it.each([
    ['a 40 MP JPEG', () => withDeclaredSize(grayJpeg(0, 16, 16), 8000, 5000), 'image-pixels', 'camera "wrist": JPEG of 8000 x 5000 = 40.0 MP exceeds the limit of 2.1 MP (2073600 pixels)'],
    ['a JPEG bomb', () => withDeclaredSize(grayJpeg(0, 8, 8), 65535, 65535), 'image-pixels', 'camera "wrist": JPEG of 65535 x 65535 = 4294.8 MP exceeds the limit of 2.1 MP (2073600 pixels)'],
    ['a truncated JPEG', () => { const j = noiseJpeg(64, 64); return j.subarray(0, 1000); }, 'image-truncated', 'camera "wrist": not a decodable JPEG: ends after 1000 bytes without the end-of-image marker (FF D9)'],
  ])('%s: BAD_OBSERVATION naming the value, counted; the robot\'s next honest frame gets a plan', async (_what, make, reason, message) => {
    const { address, value } = await brain({});
    const s = await open(address, 'r1');
    observe(s, 1, frameOf(make()));
    expect((await s.next('error')).error).toEqual({ code: 'BAD_OBSERVATION', observationSeq: 1, message });
    expect(await value(reason)).toBe(1);
    observe(s, 2, frameOf(grayJpeg(255)));
    const { plan } = await s.next('plan');
    expect(plan.observationSeq).toBe(2);
    plan.latent.forEach((v, k) => expect(v).toBeCloseTo(model.reference([0, 0, 0], new Float32Array(8), 1)[k] as number, 2));
  });

  it('a decode past its deadline: the worker is stopped and the robot told, naming the deadline', async () => {
    const { address, value, dropped } = await brain({ workerFile: HANGING_WORKER, decodeTimeoutMs: 300 });
    const s = await open(address, 'r1');
    observe(s, 1, frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK)));
    expect((await s.next('error')).error).toEqual({ code: 'BAD_OBSERVATION', observationSeq: 1, message: 'camera "wrist": decoding the 64 x 48 JPEG took longer than 300 ms; stopped' });
    expect(await value('image-deadline')).toBe(1);
    expect(await dropped('decoder-terminated')).toBe(1);
  });

  it('while one robot\'s frame is being decoded (and never finishes), another robot gets plan after plan', async () => {
    const { address } = await brain({ workerFile: HANGING_WORKER, decodeTimeoutMs: 60_000, workers: 2 });
    const hostile = await open(address, 'r1');
    const honest = await open(address, 'r2');
    observe(hostile, 1, frameOf(withComment(grayJpeg(0, 64, 48), HANG_MARK)));
    for (let seq = 1; seq <= 5; seq++) {
      observe(honest, seq, frameOf(grayJpeg(seq * 40)));
      expect((await honest.next('plan')).plan.observationSeq).toBe(seq);
    }
    // The hostile robot's observation is still being decoded: it has had no answer at all.
    expect(hostile.received.map((m) => m.msg)).toEqual(['welcome']);
  });
});
