/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999). The encoded form contains no 0x00,
 * so 0x00 delimits frames on the wire; overhead is at most 1 byte per 254 plus 1.
 */

/** Worst-case encoded size of `n` bytes, delimiter excluded. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encodes src[start, end) into dst at dstStart; returns the end offset in dst.
 * dst must have cobsMaxEncodedLength(end - start) bytes free.
 */
export function cobsEncode(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstStart: number): number {
  let codeAt = dstStart;
  let o = dstStart + 1;
  let code = 1;
  for (let i = start; i < end; i++) {
    const b = src[i] as number;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      dst[o++] = b;
      code++;
      if (code === 0xff) {
        dst[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  return o;
}

/**
 * Decodes one COBS segment src[start, end) (delimiter excluded) into dst.
 * Returns the decoded length; -1 if the segment is malformed (a zero inside it, a block running
 * past its end); -2 if it would exceed `limit` bytes.
 */
export function cobsDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array, limit: number): number {
  let i = start;
  let o = 0;
  while (i < end) {
    const code = src[i++] as number;
    if (code === 0) return -1;
    const blockEnd = i + code - 1;
    // Size first: a segment that would decode past the limit is oversized, whatever else is wrong.
    if (o + code - 1 > limit) return -2;
    if (blockEnd > end) return -1;
    while (i < blockEnd) {
      const b = src[i++] as number;
      if (b === 0) return -1;
      dst[o++] = b;
    }
    if (code !== 0xff && i < end) {
      if (o >= limit) return -2;
      dst[o++] = 0;
    }
  }
  return o;
}
