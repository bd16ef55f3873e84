/**
 * What a JPEG's markers say before any pixel is decoded: the frame size from the SOF segment and
 * whether the file ends with EOI. The walk visits only marker segments up to the first scan (each
 * is skipped by its length), so its cost does not grow with the image: it may run on the brain's
 * event loop, where it decides whether a frame is worth a decoder at all.
 *
 * Refusals are data (a string naming the value); the parser never throws on any input.
 */

export interface JpegHeader {
  width: number;
  height: number;
  /** Colour components (1 grey, 3 YCbCr, 4 CMYK). */
  components: number;
  /** SOF2/SOF6/SOF10/SOF14: progressive, decoded in several scans. */
  progressive: boolean;
}

export type HeaderResult = { ok: true; header: JpegHeader } | { ok: false; reason: 'not-jpeg' | 'truncated'; message: string };

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** Markers that stand alone (no length field): RSTn, TEM. */
function standalone(m: number): boolean {
  return (m >= 0xd0 && m <= 0xd7) || m === 0x01;
}

/** True when the data ends with EOI (FF D9), allowing zero padding after it. */
export function endsWithEoi(b: Uint8Array): boolean {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return end >= 4 && b[end - 2] === 0xff && b[end - 1] === EOI;
}

export function readJpegHeader(b: Uint8Array): HeaderResult {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== SOI) {
    return { ok: false, reason: 'not-jpeg', message: `does not start with the JPEG start-of-image marker (FF D8); first bytes ${hex(b.subarray(0, 4))}` };
  }
  let sof: JpegHeader | null = null;
  let i = 2;
  for (;;) {
    // Markers may be preceded by any number of FF fill bytes.
    if (i >= b.length) return { ok: false, reason: 'truncated', message: `ends after ${b.length} bytes inside its headers, before any image data` };
    if (b[i] !== 0xff) return { ok: false, reason: 'not-jpeg', message: `byte ${i} is 0x${(b[i] as number).toString(16)} where a marker (FF xx) must be` };
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) continue;
    const m = b[i] as number;
    i++;
    if (standalone(m)) continue;
    if (m === SOI || m === EOI) return { ok: false, reason: 'not-jpeg', message: `marker FF ${m.toString(16).toUpperCase()} at byte ${i - 2} before any image data` };
    if (i + 2 > b.length) return { ok: false, reason: 'truncated', message: `ends after ${b.length} bytes inside its headers, before any image data` };
    const len = ((b[i] as number) << 8) | (b[i + 1] as number);
    if (len < 2) return { ok: false, reason: 'not-jpeg', message: `segment FF ${m.toString(16).toUpperCase()} at byte ${i - 2} has length ${len}` };
    if (i + len > b.length) return { ok: false, reason: 'truncated', message: `ends after ${b.length} bytes inside segment FF ${m.toString(16).toUpperCase()} (${len} bytes from byte ${i})` };
    if (isSof(m)) {
      if (sof !== null) return { ok: false, reason: 'not-jpeg', message: `a second frame header (FF ${m.toString(16).toUpperCase()}) at byte ${i - 2}` };
      if (len < 8) return { ok: false, reason: 'not-jpeg', message: `frame header of ${len} bytes is too short` };
      sof = {
        height: ((b[i + 3] as number) << 8) | (b[i + 4] as number),
        width: ((b[i + 5] as number) << 8) | (b[i + 6] as number),
        components: b[i + 7] as number,
        progressive: m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce,
      };
    }
    if (m === SOS) {
      if (sof === null) return { ok: false, reason: 'not-jpeg', message: 'image data (SOS) before any frame header (SOF)' };
      if (sof.width === 0 || sof.height === 0) return { ok: false, reason: 'not-jpeg', message: `frame header says ${sof.width} x ${sof.height} pixels` };
      if (!endsWithEoi(b)) return { ok: false, reason: 'truncated', message: `ends after ${b.length} bytes without the end-of-image marker (FF D9)` };
      return { ok: true, header: sof };
    }
    i += len;
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ') || '(none)';
}
