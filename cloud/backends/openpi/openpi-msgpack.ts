/**
 * openpi's msgpack-with-numpy encoding (openpi_client/msgpack_numpy.py): a numpy array travels as
 * a map {b"__ndarray__": True, b"data": <bytes>, b"dtype": "<f4", b"shape": [..]} whose KEYS are
 * msgpack bin (Python bytes; msgpack-python packs bytes as bin), and the server's unpacker finds
 * arrays by the bin key b"__ndarray__". @msgpack/msgpack writes object keys only as str, so the
 * writer below is hand-written (maps with str or bin keys, str, bin, bool, nil, ints, float64,
 * arrays: what an observation needs). Replies are read with @msgpack/msgpack, bin keys turned
 * into strings, then array maps turned into NdArray; the size limits of the reader apply.
 */
import { Decoder } from '@msgpack/msgpack';
import { ndarrayProblem, type NdArray } from '../policy-server/ndarray.js';

/** A value the writer takes: NdArray values become openpi array maps. */
export type PackValue = null | boolean | number | string | Uint8Array | NdArray | PackValue[] | { [key: string]: PackValue };

const isNd = (v: unknown): v is NdArray => typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && (v as NdArray).data instanceof Uint8Array;

class Writer {
  private buf = new Uint8Array(1024);
  private n = 0;
  private view = new DataView(this.buf.buffer);

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void { this.room(1); this.buf[this.n++] = b; }
  u16(v: number): void { this.room(2); this.view.setUint16(this.n, v); this.n += 2; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.n, v); this.n += 4; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.n); this.n += b.length; }

  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 32) this.byte(0xa0 | b.length);
    else if (b.length < 0x100) { this.byte(0xd9); this.byte(b.length); } else if (b.length < 0x10000) { this.byte(0xda); this.u16(b.length); } else { this.byte(0xdb); this.u32(b.length); }
    this.bytes(b);
  }

  bin(b: Uint8Array): void {
    if (b.length < 0x100) { this.byte(0xc4); this.byte(b.length); } else if (b.length < 0x10000) { this.byte(0xc5); this.u16(b.length); } else { this.byte(0xc6); this.u32(b.length); }
    this.bytes(b);
  }

  mapHeader(k: number): void {
    if (k < 16) this.byte(0x80 | k); else if (k < 0x10000) { this.byte(0xde); this.u16(k); } else { this.byte(0xdf); this.u32(k); }
  }

  arrayHeader(k: number): void {
    if (k < 16) this.byte(0x90 | k); else if (k < 0x10000) { this.byte(0xdc); this.u16(k); } else { this.byte(0xdd); this.u32(k); }
  }

  num(v: number): void {
    if (Number.isInteger(v) && v >= 0 && v < 0x80) this.byte(v);
    else if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) { this.byte(0xce); this.u32(v); } else if (Number.isInteger(v) && v < 0 && v >= -32) this.byte(v & 0xff);
    else if (Number.isInteger(v) && v >= -0x80000000 && v < 0) { this.byte(0xd2); this.room(4); this.view.setInt32(this.n, v); this.n += 4; } else { this.byte(0xcb); this.room(8); this.view.setFloat64(this.n, v); this.n += 8; }
  }

  value(v: PackValue): void {
    if (v === null) this.byte(0xc0);
    else if (typeof v === 'boolean') this.byte(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') this.num(v);
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof Uint8Array) this.bin(v);
    else if (Array.isArray(v)) { this.arrayHeader(v.length); for (const x of v) this.value(x); } else if (isNd(v)) {
      // The four keys are bin, as numpy-msgpack writes Python bytes keys.
      this.mapHeader(4);
      this.bin(Buffer.from('__ndarray__')); this.byte(0xc3);
      this.bin(Buffer.from('data')); this.bin(v.data);
      this.bin(Buffer.from('dtype')); this.str(v.dtype);
      this.bin(Buffer.from('shape')); this.arrayHeader(v.shape.length); for (const d of v.shape) this.num(d);
    } else {
      const entries = Object.entries(v);
      this.mapHeader(entries.length);
      for (const [k, x] of entries) { this.str(k); this.value(x); }
    }
  }

  done(): Uint8Array { return this.buf.slice(0, this.n); }
}

export function packOpenpi(v: PackValue): Uint8Array {
  const w = new Writer();
  w.value(v);
  return w.done();
}

const decoder = new Decoder({
  // Python bytes keys arrive as bin; they name fields like str keys do.
  mapKeyConverter: (k: unknown): string | number => {
    if (typeof k === 'string' || typeof k === 'number') return k;
    if (k instanceof Uint8Array) return Buffer.from(k).toString('latin1');
    throw new TypeError(`a map key of type ${typeof k}`);
  },
  maxStrLength: 16 << 20, maxBinLength: 256 << 20, maxArrayLength: 1 << 20, maxMapLength: 1 << 16,
});

/** Decoded value: array maps (and numpy scalar maps) replaced; a malformed array map throws, naming its path. */
export type Unpacked = null | boolean | number | bigint | string | Uint8Array | NdArray | Unpacked[] | { [key: string]: Unpacked };

function revive(v: unknown, path: string): Unpacked {
  if (v === null || typeof v !== 'object') return v as Unpacked;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x, i) => revive(x, `${path}[${i}]`));
  const o = v as Record<string, unknown>;
  if ('__ndarray__' in o) {
    const shape = o['shape'];
    const a: NdArray = { dtype: String(o['dtype']), shape: Array.isArray(shape) ? shape.map(Number) : [], data: o['data'] instanceof Uint8Array ? o['data'] : new Uint8Array(0) };
    const problem = ndarrayProblem(a);
    if (problem !== null) throw new RangeError(`${path || 'reply'}: array ${problem}`);
    return a;
  }
  if ('__npgeneric__' in o) return revive(o['data'], path);
  const out: Record<string, Unpacked> = {};
  for (const [k, x] of Object.entries(o)) out[k] = revive(x, path === '' ? k : `${path}.${k}`);
  return out;
}

export function unpackOpenpi(b: Uint8Array): Unpacked {
  return revive(decoder.decode(b), '');
}
