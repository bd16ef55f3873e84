/**
 * JPEG marker facts the MJPEG splitter and the cameras need (ITU-T T.81 Annex B). Pure functions
 * over bytes; no I/O.
 *   SOI FF D8 · EOI FF D9 · RSTn FF D0..D7 and TEM FF 01 stand alone (no length);
 *   every other marker is followed by a 2-byte big-endian length that counts itself;
 *   after SOS (FF DA) and its header comes entropy-coded data, in which a literal FF is stuffed
 *   as FF 00, so FF followed by anything else is a marker.
 */
export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const TEM = 0x01;

/** Markers with no length field. */
export function isStandalone(code: number): boolean {
  return code === SOI || code === EOI || code === TEM || (code >= 0xd0 && code <= 0xd7);
}

/** Start-of-frame markers (C0..CF except DHT C4, JPG C8, DAC CC): they carry the image size. */
export function isStartOfFrame(code: number): boolean {
  return code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
}

/** Width and height from the first SOFn segment of a complete JPEG; null when there is none. */
export function jpegDimensions(jpeg: Uint8Array): { width: number; height: number } | null {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return null;
  let i = 2;
  while (i + 3 < jpeg.length) {
    if (jpeg[i] !== 0xff) return null;
    const code = jpeg[i + 1] as number;
    if (code === 0xff) { i++; continue; } // fill byte
    if (isStandalone(code)) { i += 2; continue; }
    const len = ((jpeg[i + 2] as number) << 8) | (jpeg[i + 3] as number);
    if (isStartOfFrame(code)) {
      if (i + 8 >= jpeg.length) return null;
      const height = ((jpeg[i + 5] as number) << 8) | (jpeg[i + 6] as number);
      const width = ((jpeg[i + 7] as number) << 8) | (jpeg[i + 8] as number);
      return { width, height };
    }
    if (code === SOS) return null; // no SOF before the scan
    i += 2 + len;
  }
  return null;
}
