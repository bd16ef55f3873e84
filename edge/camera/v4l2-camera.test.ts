import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { V4l2Camera, probeV4l2, v4l2Command, type V4l2CameraExit } from './v4l2-camera.js';

function tinyJpeg(shade: number): Buffer {
  const rgba = new Uint8Array(16 * 8 * 4).fill(shade);
  return jpeg.encode({ data: rgba, width: 16, height: 8 }, 70).data;
}

/** A fake tool: a node child that writes `count` JPEGs in odd-sized pieces, then a line to stderr. */
function fakeTool(count: number, exitCode: number): { file: string; args: string[] } {
  const frames = Array.from({ length: count }, (_, k) => tinyJpeg(20 * k).toString('base64'));
  const script = `
    const frames = ${JSON.stringify(frames)}.map((b) => Buffer.from(b, 'base64'));
    const all = Buffer.concat(frames);
    let i = 0;
    const step = () => {
      if (i >= all.length) { process.stderr.write('fake: end of stream\\n'); setTimeout(() => process.exit(${exitCode}), 10); return; }
      const n = 1 + (i % 37);
      process.stdout.write(all.subarray(i, i + n));
      i += n;
      setImmediate(step);
    };
    step();`;
  return { file: process.execPath, args: ['-e', script] };
}

function waitExit(cam: V4l2Camera): Promise<V4l2CameraExit> {
  return new Promise((resolve) => cam.once('exit', resolve));
}

describe('V4l2Camera', () => {
  it('splits the tool output into frames, keeps the newest, and reports the exit with stderr', async () => {
    const cam = new V4l2Camera({ id: 'front', command: fakeTool(5, 3) });
    const seen: number[] = [];
    cam.on('frame', (f) => seen.push(f.frameSeq));
    expect(cam.start().ok).toBe(true);
    const exit = await waitExit(cam);
    expect(exit).toMatchObject({ code: 3, requested: false, stderrTail: 'fake: end of stream' });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const last = cam.latest();
    expect(last).toMatchObject({ cameraId: 'front', encoding: 'jpeg', width: 16, height: 8, frameSeq: 5 });
    expect(last?.data.equals(tinyJpeg(80))).toBe(true);
    expect(cam.status()).toMatchObject({ running: false, splitter: { frames: 5, corruptFrames: 0 } });
  });

  it('stops the tool on request', async () => {
    const cam = new V4l2Camera({ id: 'c', command: { file: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] } });
    cam.start();
    expect(cam.status().running).toBe(true);
    const exited = waitExit(cam);
    cam.stop();
    expect(await exited).toMatchObject({ requested: true, signal: 'SIGTERM' });
  });

  it('says clearly when the tool or the device is missing, and starts nothing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'spinal-path-'));
    expect(probeV4l2('/dev/video0', undefined, empty)).toEqual({
      ok: false, reason: 'no-tool', message: expect.stringMatching(/no ffmpeg or v4l2-ctl on PATH: install ffmpeg/) as unknown,
    });
    const bin = mkdtempSync(join(tmpdir(), 'spinal-bin-'));
    writeFileSync(join(bin, 'ffmpeg'), '#!/bin/sh\n', { mode: 0o755 });
    expect(probeV4l2('/dev/video-does-not-exist', undefined, bin)).toMatchObject({ ok: false, reason: 'no-device', message: expect.stringContaining('/dev/video-does-not-exist does not exist') as unknown });
    const cam = new V4l2Camera({ id: 'c', device: '/dev/video-does-not-exist' });
    expect(cam.start().ok).toBe(false);
    expect(cam.status().running).toBe(false);
  });

  it('builds the standard command lines', () => {
    const f = { width: 320, height: 240, fps: 10 };
    expect(v4l2Command('ffmpeg', '/usr/bin/ffmpeg', '/dev/video2', f).args.join(' ')).toContain('-f v4l2 -framerate 10 -video_size 320x240 -i /dev/video2 -f image2pipe -vcodec mjpeg');
    expect(v4l2Command('v4l2-ctl', '/usr/bin/v4l2-ctl', '/dev/video2', f).args).toContain('--stream-to=-');
  });
});
