/**
 * A small typed builder for ONNX graphs and models over the project's own schema (schema.ts).
 *
 * Invariants:
 * - every initializer's bytes live in `raw_data` (little-endian, as ONNX requires); `allocFloat`
 *   hands out a Float32Array view over those very bytes, so big weights are generated in place and
 *   copied only once, by the protobuf writer in `toBytes()`;
 * - names are unique within a graph: `unique(prefix)` mints fresh ones, and declaring the same
 *   initializer, input or output name twice throws;
 * - the default operator set is the ONNX domain at opset 17 (LayerNormalization's first opset),
 *   IR version 8, both supported by onnxruntime 1.30.
 */
import { endianness } from 'node:os';
import { toAttributeMsg, type AttrValue } from './attributes.js';
import {
  DataType, OnnxTypes, type DimMsg, type GraphMsg, type ModelMsg, type NodeMsg, type TensorMsg,
  type ValueInfoMsg,
} from './schema.js';

if (endianness() !== 'LE') throw new Error('the ONNX writer assumes a little-endian host');

/** A tensor dimension: a fixed size, or a symbolic name such as "B" for the batch. */
export type Dim = number | string;
export type ElemType = 'float' | 'int64' | 'bool';

const ELEM: Record<ElemType, number> = { float: DataType.FLOAT, int64: DataType.INT64, bool: DataType.BOOL };

export const DEFAULT_OPSET = 17;
export const DEFAULT_IR_VERSION = 8;

export interface GraphBuilderOptions {
  name: string;
  /** ONNX-domain opset version (default 17). */
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`bad tensor dim ${d}`);
    n *= d;
  }
  return n;
}

/** A tensor ValueInfo; `dims` undefined leaves the shape unknown (rank included). */
function valueInfo(name: string, dims: readonly Dim[] | undefined, type: ElemType): ValueInfoMsg {
  const tensorType: ValueInfoMsg['type']['tensor_type'] = { elem_type: ELEM[type] };
  if (dims !== undefined) {
    const dim: DimMsg[] = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
    tensorType.shape = { dim };
  }
  return { name, type: { tensor_type: tensorType } };
}

export class GraphBuilder {
  readonly name: string;
  private readonly opset: number;
  private readonly irVersion: number;
  private readonly producerName: string;
  private readonly producerVersion: string;
  private readonly docString: string | undefined;
  private readonly nodes: NodeMsg[] = [];
  private readonly inits: TensorMsg[] = [];
  private readonly inputs: ValueInfoMsg[] = [];
  private readonly outputs: ValueInfoMsg[] = [];
  private readonly names = new Set<string>();
  private readonly meta = new Map<string, string>();
  private counter = 0;
  private floatParams = 0;

  constructor(opts: GraphBuilderOptions) {
    this.name = opts.name;
    this.opset = opts.opset ?? DEFAULT_OPSET;
    this.irVersion = opts.irVersion ?? DEFAULT_IR_VERSION;
    this.producerName = opts.producerName ?? 'spinal';
    this.producerVersion = opts.producerVersion ?? '1';
    this.docString = opts.docString;
  }

  /** A fresh name starting with `prefix`, not used so far (it is claimed when declared). */
  unique(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`; while (this.names.has(n));
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate ONNX value name "${name}"`);
    this.names.add(name);
    return name;
  }

  input(name: string, dims: readonly Dim[], type: ElemType = 'float'): string {
    this.inputs.push(valueInfo(this.claim(name), dims, type));
    return name;
  }

  /** Declares a graph output; `name` must be produced by some node (or be an input/initializer).
   * Omit `dims` to leave its shape to inference. */
  output(name: string, dims?: readonly Dim[], type: ElemType = 'float'): string {
    this.outputs.push(valueInfo(name, dims, type));
    return name;
  }

  /**
   * Allocates a float32 initializer and returns a view over its raw bytes: fill it in place.
   * The view stays valid until `toBytes()`; writing it afterwards changes nothing already written.
   */
  allocFloat(name: string, dims: readonly number[]): Float32Array {
    const n = elementCount(dims);
    const raw = new Uint8Array(n * 4);
    this.inits.push({ name: this.claim(name), dims: [...dims], data_type: DataType.FLOAT, raw_data: raw });
    this.floatParams += n;
    return new Float32Array(raw.buffer, raw.byteOffset, n);
  }

  /** A float32 initializer holding `data` (shared, not copied: do not mutate it afterwards). */
  initFloat(name: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const n = elementCount(dims);
    if (data.length !== n) throw new RangeError(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    const raw = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    this.inits.push({ name: this.claim(name), dims: [...dims], data_type: DataType.FLOAT, raw_data: raw });
    this.floatParams += n;
    return name;
  }

  /** An int64 initializer (values must be safe integers). */
  initInt64(name: string, dims: readonly number[], values: readonly number[] | BigInt64Array): string {
    const n = elementCount(dims);
    if (values.length !== n) throw new RangeError(`initializer ${name}: ${values.length} values for dims [${dims.join(',')}]`);
    const b = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
    const raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    this.inits.push({ name: this.claim(name), dims: [...dims], data_type: DataType.INT64, raw_data: raw });
    return name;
  }

  /** An anonymous float constant (an initializer with a fresh name); a scalar when dims is []. */
  constFloat(values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): string {
    return this.initFloat(this.unique('c'), dims, values instanceof Float32Array ? values : Float32Array.from(values));
  }

  /** An anonymous int64 constant, a 1-D vector by default (shapes, axes, indices). */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initInt64(this.unique('i'), dims, values);
  }

  /**
   * Appends a node. `outputs` is either explicit names or a count of fresh names to mint.
   * Returns the output names. Use '' in `inputs` for an omitted optional input.
   */
  node(
    op: string,
    inputs: readonly string[],
    outputs: readonly string[] | number = 1,
    attrs: Readonly<Record<string, AttrValue>> = {},
    domain = '',
  ): string[] {
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.unique(op.toLowerCase()))
      : outputs.map((o) => this.claim(o));
    const msg: NodeMsg = {
      input: [...inputs],
      output: outs,
      name: this.unique(`n_${op}`),
      op_type: op,
      attribute: Object.entries(attrs).map(([k, v]) => toAttributeMsg(k, v)),
    };
    if (domain) msg.domain = domain;
    this.nodes.push(msg);
    return outs;
  }

  /** A single-output node; returns its output name (`out` when given, else a fresh one). */
  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, out?: string): string {
    return this.node(op, inputs, out === undefined ? 1 : [out], attrs)[0] as string;
  }

  metadata(key: string, value: string): this {
    this.meta.set(key, value);
    return this;
  }

  /** Number of float32 initializer elements (the model's parameter count, constants included). */
  get floatElementCount(): number {
    return this.floatParams;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The GraphProto (for a subgraph attribute, or inspection). */
  toGraph(): GraphMsg {
    const g: GraphMsg = {
      name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs,
    };
    if (this.docString !== undefined) g.doc_string = this.docString;
    return g;
  }

  toModel(): ModelMsg {
    const m: ModelMsg = {
      ir_version: this.irVersion,
      opset_import: [{ domain: '', version: this.opset }],
      producer_name: this.producerName,
      producer_version: this.producerVersion,
      graph: this.toGraph(),
      metadata_props: [...this.meta].map(([key, value]) => ({ key, value })),
    };
    if (this.docString !== undefined) m.doc_string = this.docString;
    return m;
  }

  /** The serialized ModelProto. Weights are copied once, into the returned buffer. */
  toBytes(): Uint8Array {
    return OnnxTypes.ModelProto.encode(this.toModel() as unknown as Record<string, unknown>).finish();
  }
}
