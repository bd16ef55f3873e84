/**
 * An independent reader for the exported parquet files: parquet-wasm (Rust's arrow/parquet crates)
 * decodes them, and this reads the resulting Arrow arrays through the Arrow C data interface in the
 * WebAssembly memory. Supports what a LeRobot dataset uses: float32/64, int32/64, utf8, lists.
 */
import { readFileSync } from 'node:fs';
import * as pw from 'parquet-wasm/node';

export type Cell = number | string | Cell[];

export interface ReadTable {
  numRows: number;
  /** Arrow format string per column ("f" float32, "g" float64, "l" int64, "u" utf8, "+l" list…), with the child's after a colon for lists. */
  formats: Map<string, string>;
  columns: Map<string, Cell[]>;
}

class Mem {
  readonly dv: DataView;
  readonly u8: Uint8Array;
  constructor(buf: ArrayBuffer) {
    this.dv = new DataView(buf);
    this.u8 = new Uint8Array(buf);
  }
  u32(p: number): number { return this.dv.getUint32(p, true); }
  i64(p: number): number { return Number(this.dv.getBigInt64(p, true)); }
  cstr(p: number): string {
    if (p === 0) return '';
    let e = p;
    while (this.u8[e] !== 0) e++;
    return new TextDecoder().decode(this.u8.subarray(p, e));
  }
}

interface SchemaNode { format: string; name: string; children: SchemaNode[] }

function readSchema(m: Mem, p: number): SchemaNode {
  const n = m.i64(p + 24);
  const ch = m.u32(p + 32);
  return { format: m.cstr(m.u32(p)), name: m.cstr(m.u32(p + 4)), children: Array.from({ length: n }, (_, i) => readSchema(m, m.u32(ch + 4 * i))) };
}

function describe(s: SchemaNode): string {
  return s.children.length > 0 ? `${s.format}:${s.children.map(describe).join(',')}` : s.format;
}

/** Values of array `a` with schema `s`, rows [0, length). */
function readArray(m: Mem, s: SchemaNode, a: number): Cell[] {
  const length = m.i64(a);
  const nulls = m.i64(a + 8);
  const offset = m.i64(a + 16);
  if (nulls !== 0) throw new Error(`column ${s.name}: ${nulls} nulls (the dataset has none)`);
  const buffers = m.u32(a + 40);
  const buf = (i: number): number => m.u32(buffers + 4 * i);
  const children = m.u32(a + 44);
  const out: Cell[] = new Array<Cell>(length);
  const f = s.format;
  if (f === 'f' || f === 'g' || f === 'l' || f === 'i') {
    const d = buf(1);
    for (let i = 0; i < length; i++) {
      const k = offset + i;
      out[i] = f === 'f' ? m.dv.getFloat32(d + 4 * k, true) : f === 'g' ? m.dv.getFloat64(d + 8 * k, true) : f === 'l' ? m.i64(d + 8 * k) : m.dv.getInt32(d + 4 * k, true);
    }
  } else if (f === 'u' || f === 'U' || f === 'vu') {
    if (f === 'vu') throw new Error(`column ${s.name}: string views not supported`);
    const offs = buf(1);
    const data = buf(2);
    const w = f === 'u' ? 4 : 8;
    const at = (k: number): number => (w === 4 ? m.dv.getInt32(offs + 4 * k, true) : m.i64(offs + 8 * k));
    for (let i = 0; i < length; i++) out[i] = new TextDecoder().decode(m.u8.subarray(data + at(offset + i), data + at(offset + i + 1)));
  } else if (f === '+l' || f === '+L' || f.startsWith('+w:')) {
    const child = readArray(m, s.children[0] as SchemaNode, m.u32(children));
    if (f.startsWith('+w:')) {
      const size = Number(f.slice(3));
      for (let i = 0; i < length; i++) out[i] = child.slice((offset + i) * size, (offset + i + 1) * size);
    } else {
      const offs = buf(1);
      const at = (k: number): number => (f === '+l' ? m.dv.getInt32(offs + 4 * k, true) : m.i64(offs + 8 * k));
      for (let i = 0; i < length; i++) out[i] = child.slice(at(offset + i), at(offset + i + 1));
    }
  } else throw new Error(`column ${s.name}: Arrow format ${JSON.stringify(f)} not supported by this reader`);
  return out;
}

export function readParquetFile(path: string): ReadTable {
  const table = pw.readParquet(new Uint8Array(readFileSync(path)));
  const stream = table.intoFFI();
  try {
    const m = new Mem(pw.wasmMemory().buffer);
    const root = readSchema(m, stream.schemaAddr());
    const columns = new Map<string, Cell[]>(root.children.map((c) => [c.name, []]));
    const formats = new Map(root.children.map((c) => [c.name, describe(c)]));
    let numRows = 0;
    for (let b = 0; b < stream.numArrays(); b++) {
      const a = stream.arrayAddr(b);
      const kids = m.u32(a + 44);
      numRows += m.i64(a);
      root.children.forEach((c, i) => {
        const col = columns.get(c.name) as Cell[];
        for (const v of readArray(m, c, m.u32(kids + 4 * i))) col.push(v);
      });
    }
    return { numRows, formats, columns };
  } finally {
    stream.drop();
  }
}
