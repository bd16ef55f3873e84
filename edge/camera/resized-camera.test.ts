import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CameraFrame, CameraSource } from './camera-source.js';
import { ResizedCamera } from './resized-camera.js';

function noisyJpeg(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  let s = 7;
  for (let i = 0; i < data.length; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; data[i] = i % 4 === 3 ? 255 : s & 0xff; }
  return Buffer.from(jpeg.encode({ data, width: w, height: h }, 90).data);
}

class OneFrame implements CameraSource {
  readonly id = 'front';
  frame: CameraFrame | null = null;
  latest(): CameraFrame | null { return this.frame; }
}

const cams: ResizedCamera[] = [];
afterEach(async () => { for (const c of cams.splice(0)) await c.close(); });

async function until<T>(f: () => T | null, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = f();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${what}`);
}

describe('ResizedCamera', () => {
  it('scales a 640x480 frame to 224x224 (aspect kept, padded) as a smaller JPEG, keeping capture time and sequence', async () => {
    const src = new OneFrame();
    const big = noisyJpeg(640, 480);
    src.frame = { cameraId: 'front', encoding: 'jpeg', data: big, width: 640, height: 480, captureTimeUs: 123, frameSeq: 1 };
    const cam = new ResizedCamera(src, { width: 224, height: 224, quality: 80 });
    cams.push(cam);
    const f = await until(() => cam.latest(), 'resized frame');
    expect(f).toMatchObject({ cameraId: 'front', encoding: 'jpeg', width: 224, height: 224, captureTimeUs: 123, frameSeq: 1 });
    expect(f.data.length).toBeLessThan(big.length / 3);
    const img = jpeg.decode(f.data, { useTArray: true });
    expect([img.width, img.height]).toEqual([224, 224]);
    // 640x480 → 224x168 centred: the top rows are the black bar.
    expect(img.data[0]).toBeLessThan(16);
    expect(img.data[(112 * 224 + 112) * 4 + 3]).toBe(255);
  });

  it('takes only the newest frame and names a frame it cannot read', async () => {
    const src = new OneFrame();
    src.frame = { cameraId: 'front', encoding: 'jpeg', data: Buffer.from('not a jpeg'), width: 1, height: 1, captureTimeUs: 1, frameSeq: 1 };
    const cam = new ResizedCamera(src, { width: 32, height: 32, quality: 80 });
    cams.push(cam);
    cam.latest();
    await until(() => (cam.failures > 0 ? true : null), 'failure');
    expect(cam.lastError).toMatch(/^camera "front" frame 1: /);
    expect(cam.latest()).toBeNull();
    src.frame = { cameraId: 'front', encoding: 'jpeg', data: noisyJpeg(64, 64), width: 64, height: 64, captureTimeUs: 2, frameSeq: 2 };
    const f = await until(() => cam.latest(), 'resized frame');
    expect(f.frameSeq).toBe(2);
  });
});
