import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';

function enc(bytes: number[]): number[] {
  const src = Uint8Array.from(bytes);
  const dst = new Uint8Array(cobsMaxEncodedLength(src.length));
  return Array.from(dst.subarray(0, cobsEncode(src, 0, src.length, dst, 0)));
}

describe('COBS', () => {
  // Examples from Cheshire & Baker / the Wikipedia table of the algorithm.
  it.each([
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ])('encodes %j as %j', (raw, expected) => {
    expect(enc(raw)).toEqual(expected);
  });

  it('handles 254-byte runs without zeros (0xFF blocks)', () => {
    const raw = Array.from({ length: 254 }, (_, i) => i + 1);
    const e = enc(raw);
    expect(e[0]).toBe(0xff);
    expect(e.length).toBe(256);
    const raw255 = Array.from({ length: 255 }, (_, i) => (i % 255) + 1);
    const e255 = enc(raw255);
    expect(e255).not.toContain(0);
    const out = new Uint8Array(300);
    expect(cobsDecode(Uint8Array.from(e255), 0, e255.length, out, 300)).toBe(255);
    expect(Array.from(out.subarray(0, 255))).toEqual(raw255);
  });

  it('round-trips random data and never emits a zero', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    for (let n = 0; n < 600; n += 7) {
      const raw = Uint8Array.from({ length: n }, () => (rnd() < 40 ? 0 : rnd()));
      const e = new Uint8Array(cobsMaxEncodedLength(n));
      const len = cobsEncode(raw, 0, n, e, 0);
      expect(len).toBeLessThanOrEqual(cobsMaxEncodedLength(n));
      expect(e.subarray(0, len).includes(0)).toBe(false);
      const d = new Uint8Array(n + 1);
      expect(cobsDecode(e, 0, len, d, n + 1)).toBe(n);
      expect(d.subarray(0, n)).toEqual(raw);
    }
  });

  it('rejects malformed and over-limit segments', () => {
    const out = new Uint8Array(8);
    expect(cobsDecode(Uint8Array.of(0x05, 0x11), 0, 2, out, 8)).toBe(-1);
    expect(cobsDecode(Uint8Array.of(0x03, 0x00, 0x11), 0, 3, out, 8)).toBe(-1);
    expect(cobsDecode(Uint8Array.of(0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9), 0, 10, out, 8)).toBe(-2);
  });
});
