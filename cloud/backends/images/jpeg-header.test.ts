import { describe, expect, it } from 'vitest';
import { grayJpeg, withComment, withDeclaredSize } from '../../testing/test-jpegs.js';
import { readJpegHeader } from './jpeg-header.js';

describe('JPEG header: the frame size and completeness, read before decoding', () => {
  it('reads width, height and components from the frame header, past other segments', () => {
    expect(readJpegHeader(grayJpeg(128, 40, 30))).toEqual({ ok: true, header: { width: 40, height: 30, components: 3, progressive: false } });
    expect(readJpegHeader(withComment(grayJpeg(1, 8, 8), 'hello'))).toMatchObject({ ok: true, header: { width: 8, height: 8 } });
  });

  it('reports the size a frame header declares, however small the file (a bomb is caught here)', () => {
    const bomb = withDeclaredSize(grayJpeg(0, 8, 8), 65535, 65535);
    expect(bomb.length).toBeLessThan(1000);
    expect(readJpegHeader(bomb)).toMatchObject({ ok: true, header: { width: 65535, height: 65535 } });
  });

  it('refuses a file cut short, at every length, naming where it ends; never throws', () => {
    const whole = grayJpeg(200, 24, 24);
    for (let n = 0; n < 4; n++) expect(readJpegHeader(whole.subarray(0, n))).toMatchObject({ ok: false, reason: 'not-jpeg' });
    for (let n = 4; n < whole.length - 1; n++) {
      expect(readJpegHeader(whole.subarray(0, n)), `cut at ${n}`).toMatchObject({ ok: false, reason: 'truncated', message: expect.stringContaining(`ends after ${n} bytes`) });
    }
  });

  it('refuses what is not a JPEG, naming the bytes', () => {
    expect(readJpegHeader(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]))).toEqual({ ok: false, reason: 'not-jpeg', message: 'does not start with the JPEG start-of-image marker (FF D8); first bytes 89 50 4E 47' });
    expect(readJpegHeader(withDeclaredSize(grayJpeg(0, 8, 8), 0, 8))).toMatchObject({ ok: false, message: 'frame header says 0 x 8 pixels' });
  });
});
