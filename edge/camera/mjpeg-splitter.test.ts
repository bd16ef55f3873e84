import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { jpegDimensions } from './jpeg-markers.js';
import { MjpegSplitter } from './mjpeg-splitter.js';

function solidJpeg(w: number, h: number, shade: number): Buffer {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = shade; rgba[i + 1] = (i / 4) % 256; rgba[i + 2] = 255 - shade; rgba[i + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width: w, height: h }, 80).data;
}

/** The JPEG with an APP1 segment right after SOI that holds a whole thumbnail JPEG (SOI..EOI). */
function withThumbnail(main: Buffer, thumb: Buffer): Buffer {
  const len = thumb.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, len >> 8, len & 0xff]), thumb]);
  return Buffer.concat([main.subarray(0, 2), app1, main.subarray(2)]);
}

function split(stream: Buffer, chunking: (i: number) => number, maxFrameBytes?: number): { frames: Buffer[]; splitter: MjpegSplitter } {
  const frames: Buffer[] = [];
  const splitter = new MjpegSplitter((f) => frames.push(f), maxFrameBytes);
  let i = 0;
  for (let k = 0; i < stream.length; k++) {
    const n = Math.max(1, chunking(k));
    splitter.push(stream.subarray(i, i + n));
    i += n;
  }
  return { frames, splitter };
}

describe('MjpegSplitter', () => {
  const a = solidJpeg(32, 24, 10);
  const b = solidJpeg(48, 16, 200);
  const c = withThumbnail(solidJpeg(20, 20, 90), solidJpeg(8, 8, 30));
  const garbage = Buffer.from([0x67, 0x61, 0x72, 0xff, 0x00, 0xff]);
  const stream = Buffer.concat([Buffer.from([0x00, 0xff, 0x12, 0xff]), a, b, garbage, c, a]);

  it.each([
    ['one chunk', () => 1 << 30],
    ['one byte at a time', () => 1],
    ['odd sizes', (k: number) => [3, 1, 7, 2, 64, 5, 1][k % 7] as number],
    ['pseudo-random sizes', (k: number) => ((k * 2654435761) >>> 0) % 97 + 1],
  ])('yields exactly the frames, byte for byte, fed %s', (_name, chunking) => {
    const { frames, splitter } = split(stream, chunking);
    expect(frames.map((f) => Buffer.compare(f, [a, b, c, a][frames.indexOf(f)] as Buffer))).toEqual([0, 0, 0, 0]);
    expect(frames).toHaveLength(4);
    expect(splitter.counters).toMatchObject({ frames: 4, corruptFrames: 0, oversizedFrames: 0 });
    expect(splitter.counters.skippedBytes).toBe(4 + garbage.length);
  });

  it('does not end a frame at the EOI of an embedded thumbnail', () => {
    const { frames } = split(c, () => 5);
    expect(frames).toHaveLength(1);
    expect(jpegDimensions(frames[0] as Buffer)).toEqual({ width: 20, height: 20 });
    expect(jpeg.decode(frames[0] as Buffer).width).toBe(20);
  });

  it('drops a frame cut short by a new SOI and one over the size limit, and resynchronises', () => {
    const truncated = a.subarray(0, a.length >> 1);
    const cut = split(Buffer.concat([truncated, b]), () => 11);
    expect(cut.frames.map((f) => f.equals(b))).toEqual([true]);
    expect(cut.splitter.counters.corruptFrames).toBe(1);
    const large = solidJpeg(96, 96, 50);
    expect(large.length).toBeGreaterThan(b.length + 1);
    const big = split(Buffer.concat([b, large, b]), () => 13, b.length + 1);
    expect(big.frames.map((f) => f.equals(b))).toEqual([true, true]);
    expect(big.splitter.counters.oversizedFrames).toBe(1);
  });

  it('reads the size from the SOF segment', () => {
    expect(jpegDimensions(b)).toEqual({ width: 48, height: 16 });
    expect(jpegDimensions(Buffer.from([1, 2, 3]))).toBeNull();
  });
});
