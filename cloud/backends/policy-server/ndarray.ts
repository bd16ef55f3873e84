/**
 * numpy arrays as the policy servers exchange them (openpi: raw bytes + dtype string + shape;
 * GR00T: .npy files), in TypeScript: a dtype of numpy's `dtype.str` form ("<f4", "|u1", ...), a
 * shape, and the little-endian bytes. Only the numeric dtypes a policy sends or takes are read;
 * anything else is refused with the dtype named.
 */
export interface NdArray {
  /** numpy dtype.str, e.g. "<f4", "<f8", "|u1". */
  dtype: string;
  shape: number[];
  /** C-order bytes. */
  data: Uint8Array;
}

const SIZES: Record<string, number> = { f2: 2, f4: 4, f8: 8, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, u8: 8, i8: 8, b1: 1 };

/** Element count of a shape (1 for a scalar's []). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Null when `a` is a well-formed array (known dtype, little-endian, bytes matching the shape); else why not. */
export function ndarrayProblem(a: NdArray): string | null {
  const m = /^([<|=])([fuib])(\d)$/.exec(a.dtype);
  const size = m !== null ? SIZES[`${m[2]}${m[3]}`] : undefined;
  if (m === null || size === undefined) return `dtype "${a.dtype}" is not a little-endian numeric dtype`;
  if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `shape [${a.shape.join(', ')}] is not a list of sizes`;
  const want = elementCount(a.shape) * size;
  if (a.data.length !== want) return `has ${a.data.length} bytes, dtype ${a.dtype} x shape [${a.shape.join(', ')}] needs ${want}`;
  return null;
}

function halfToFloat(h: number): number {
  const s = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f === 0 ? s * Infinity : Number.NaN;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The values as float64 (needs ndarrayProblem(a) === null). */
export function toFloat64(a: NdArray): Float64Array {
  const kind = a.dtype.slice(1);
  const n = elementCount(a.shape);
  const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 'f2': out[i] = halfToFloat(v.getUint16(i * 2, true)); break;
      case 'f4': out[i] = v.getFloat32(i * 4, true); break;
      case 'f8': out[i] = v.getFloat64(i * 8, true); break;
      case 'u1': case 'b1': out[i] = v.getUint8(i); break;
      case 'i1': out[i] = v.getInt8(i); break;
      case 'u2': out[i] = v.getUint16(i * 2, true); break;
      case 'i2': out[i] = v.getInt16(i * 2, true); break;
      case 'u4': out[i] = v.getUint32(i * 4, true); break;
      case 'i4': out[i] = v.getInt32(i * 4, true); break;
      case 'u8': out[i] = Number(v.getBigUint64(i * 8, true)); break;
      case 'i8': out[i] = Number(v.getBigInt64(i * 8, true)); break;
      default: throw new RangeError(`dtype "${a.dtype}" is not supported`);
    }
  }
  return out;
}

export function float32Array(values: ArrayLike<number>, shape: number[]): NdArray {
  const f = Float32Array.from(values);
  return { dtype: '<f4', shape, data: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

export function uint8Array(values: Uint8Array, shape: number[]): NdArray {
  return { dtype: '|u1', shape, data: values };
}
