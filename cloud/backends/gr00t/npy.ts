/**
 * numpy's .npy format (versions 1.0-3.0), as GR00T's MsgSerializer carries arrays
 * ({"__ndarray_class__": True, "as_npy": np.save(...) bytes}): the magic "\x93NUMPY", a version,
 * a little-endian header length, a Python dict literal {'descr', 'fortran_order', 'shape'} padded
 * to a 64-byte boundary, then the data. Hand-written (some 50 lines): the format is small and
 * fixed, and the npm readers found either pull in Node-incompatible fetch code or skip version 2.
 */
import type { NdArray } from '../policy-server/ndarray.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export function encodeNpy(a: NdArray): Uint8Array {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${a.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + a.data.length);
  MAGIC.copy(out, 0);
  out[6] = 1; out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  out.set(a.data, 10 + header.length);
  return out;
}

/** The array, or a string saying why the bytes are not a C-order .npy array. */
export function decodeNpy(b: Uint8Array): NdArray | string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) return 'not a .npy array (no \\x93NUMPY magic)';
  const major = buf[6] as number;
  if (major < 1 || major > 3) return `.npy version ${major} is not known`;
  const lenBytes = major === 1 ? 2 : 4;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lenBytes;
  if (buf.length < start + hlen) return '.npy header is truncated';
  const header = buf.subarray(start, start + hlen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return `.npy header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`;
  if (fortran === 'True') return '.npy array is in Fortran order';
  const shape = shapeText.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  return { dtype: descr, shape, data: new Uint8Array(buf.buffer, buf.byteOffset + start + hlen, buf.length - start - hlen) };
}
