/**
 * Reads back what the project needs from a serialized ModelProto: metadata_props, opsets, graph
 * inputs and outputs with their shapes, and initializer sizes. onnxruntime-node does not expose a
 * model's metadata_props, so tests and tools read them here. Unknown fields are skipped.
 */
import { OnnxTypes } from './schema.js';

export interface TensorInfo {
  name: string;
  elemType: number;
  /** A number for a fixed dim, the symbol's name for a symbolic one, null when absent. */
  dims: (number | string | null)[];
}

export interface ModelSummary {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  metadata: Record<string, string>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodeCount: number;
  opTypes: string[];
  /** Total float32 elements over all initializers. */
  floatInitializerElements: number;
  initializers: { name: string; dims: number[]; dataType: number }[];
}

interface Decoded {
  ir_version?: number;
  producer_name?: string;
  opset_import?: { domain?: string; version?: number }[];
  metadata_props?: { key?: string; value?: string }[];
  graph?: {
    node?: { op_type?: string }[];
    initializer?: { name?: string; dims?: number[]; data_type?: number }[];
    input?: DecodedValueInfo[];
    output?: DecodedValueInfo[];
  };
}
interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

function tensorInfo(v: DecodedValueInfo): TensorInfo {
  const t = v.type?.tensor_type;
  return {
    name: v.name ?? '',
    elemType: t?.elem_type ?? 0,
    dims: (t?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? null),
  };
}

export function readModel(bytes: Uint8Array): ModelSummary {
  const msg = OnnxTypes.ModelProto.decode(bytes);
  const o = OnnxTypes.ModelProto.toObject(msg, { longs: Number, defaults: false }) as Decoded;
  const metadata: Record<string, string> = {};
  for (const e of o.metadata_props ?? []) if (e.key !== undefined) metadata[e.key] = e.value ?? '';
  const g = o.graph ?? {};
  let floats = 0;
  for (const t of g.initializer ?? []) {
    if (t.data_type !== 1) continue;
    floats += (t.dims ?? []).reduce((a, d) => a * d, 1);
  }
  return {
    irVersion: o.ir_version ?? 0,
    opsets: (o.opset_import ?? []).map((x) => ({ domain: x.domain ?? '', version: x.version ?? 0 })),
    producerName: o.producer_name ?? '',
    metadata,
    inputs: (g.input ?? []).map(tensorInfo),
    outputs: (g.output ?? []).map(tensorInfo),
    nodeCount: (g.node ?? []).length,
    opTypes: [...new Set((g.node ?? []).map((n) => n.op_type ?? ''))].sort(),
    floatInitializerElements: floats,
    initializers: (g.initializer ?? []).map((t) => ({ name: t.name ?? '', dims: t.dims ?? [], dataType: t.data_type ?? 0 })),
  };
}
