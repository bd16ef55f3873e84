/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF).
 * Check value: crc32c("123456789") === 0xE3069283.
 *
 * Slicing-by-8 (Intel, 2006): eight 256-entry tables let one step consume eight bytes with
 * independent lookups, instead of a chain of eight dependent ones. That roughly triples the
 * throughput in V8 on frame-sized inputs; the byte-wise step finishes the tail.
 */
const TABLES = buildTables();

/** The eight slicing tables, 256 entries each; shared with the WebAssembly kernel. */
export const CRC_TABLES: Readonly<Int32Array> = TABLES;

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  // Table k advances a byte followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n] as number;
      t[k * 256 + n] = (t[prev & 0xff] as number) ^ (prev >>> 8);
    }
  }
  return t;
}

/** CRC-32C of bytes[start, end). Allocation-free. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let c = -1;
  let i = start;
  const last8 = end - 8;
  for (; i <= last8; i += 8) {
    const lo = c ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
    c = (t[1792 + (lo & 0xff)] as number) ^ (t[1536 + ((lo >>> 8) & 0xff)] as number) ^ (t[1280 + ((lo >>> 16) & 0xff)] as number) ^ (t[1024 + (lo >>> 24)] as number)
      ^ (t[768 + (bytes[i + 4] as number)] as number) ^ (t[512 + (bytes[i + 5] as number)] as number) ^ (t[256 + (bytes[i + 6] as number)] as number) ^ (t[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
