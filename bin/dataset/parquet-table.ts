/**
 * Writes a parquet file from typed columns with hyparquet-writer, spelling out the schema so the
 * types are what LeRobot reads: int64 indices, float32 frames, and 3-level LIST columns for vectors.
 */
import { writeFileSync } from 'node:fs';
import { fileWriter, ParquetWriter, parquetWriteBuffer, type ColumnSource, type SchemaElement } from 'hyparquet-writer';

export type Column =
  | { name: string; kind: 'int64'; data: ArrayLike<number> }
  | { name: string; kind: 'float' | 'double'; data: ArrayLike<number> }
  | { name: string; kind: 'string'; data: readonly string[] }
  /** `dim` values per row, row-major. */
  | { name: string; kind: 'list<float>'; data: ArrayLike<number>; dim: number }
  | { name: string; kind: 'list<double>' | 'list<int64>'; data: readonly (readonly number[])[] }
  | { name: string; kind: 'list<string>'; data: readonly (readonly string[])[] };

const LEAF = {
  int64: { type: 'INT64' },
  float: { type: 'FLOAT' },
  double: { type: 'DOUBLE' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
} as const;

function schemaOf(c: Column): SchemaElement[] {
  if (!c.kind.startsWith('list<')) return [{ name: c.name, repetition_type: 'REQUIRED', ...LEAF[c.kind as keyof typeof LEAF] }];
  const leaf = c.kind.slice(5, -1) as keyof typeof LEAF;
  return [
    { name: c.name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'REQUIRED', ...LEAF[leaf] },
  ];
}

function dataOf(c: Column): ColumnSource['data'] {
  switch (c.kind) {
    case 'int64': return BigInt64Array.from(Array.from(c.data, (v) => BigInt(v)));
    case 'float': return Float32Array.from(c.data);
    case 'double': return Float64Array.from(c.data);
    case 'string': return [...c.data];
    case 'list<float>': {
      const rows = c.data.length / c.dim;
      const out: number[][] = new Array<number[]>(rows);
      for (let r = 0; r < rows; r++) {
        const row = new Array<number>(c.dim);
        for (let d = 0; d < c.dim; d++) row[d] = c.data[r * c.dim + d] as number;
        out[r] = row;
      }
      return out;
    }
    case 'list<int64>': return c.data.map((row) => row.map((v) => BigInt(v)));
    case 'list<double>':
    case 'list<string>': return c.data.map((row) => [...row]);
  }
}

function schemaFor(columns: readonly Column[]): SchemaElement[] {
  return [{ name: 'schema', num_children: columns.length }, ...columns.flatMap(schemaOf)];
}

export function parquetBytes(columns: readonly Column[], kvMetadata: { key: string; value: string }[] = []): Uint8Array {
  const schema = schemaFor(columns);
  const buf = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: dataOf(c) })),
    schema,
    // An empty key-value list is written as such, and arrow-rs then misreads LIST columns: omit it.
    ...(kvMetadata.length > 0 ? { kvMetadata } : {}),
    createdBy: 'spinal dataset',
  });
  return new Uint8Array(buf);
}

export function writeParquet(path: string, columns: readonly Column[], kvMetadata: { key: string; value: string }[] = []): number {
  const bytes = parquetBytes(columns, kvMetadata);
  writeFileSync(path, bytes);
  return bytes.length;
}

/**
 * A parquet file written row group by row group, so that only the rows being written are ever
 * converted to the writer's input (a JS array per list cell costs tens of times the typed data).
 * Every `write` must give the same columns, in the same order, as the first.
 */
export class ParquetFileWriter {
  private writer: ParquetWriter | null = null;

  constructor(private readonly path: string) {}

  write(columns: readonly Column[]): void {
    this.writer ??= new ParquetWriter({ writer: fileWriter(this.path), schema: schemaFor(columns), createdBy: 'spinal dataset' });
    this.writer.write({ columnData: columns.map((c) => ({ name: c.name, data: dataOf(c) })), rowGroupSize: Number.MAX_SAFE_INTEGER });
  }

  finish(): void {
    void this.writer?.finish(); // synchronous with the file writer
    this.writer = null;
  }
}
