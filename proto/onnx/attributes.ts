/**
 * Typed ONNX node attributes. ONNX distinguishes FLOAT from INT, so a bare JS number would be
 * ambiguous: every attribute is built with one of these tagged constructors.
 */
import { AttributeType, type AttributeMsg, type GraphMsg, type TensorMsg } from './schema.js';

export type AttrValue =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: TensorMsg }
  | { readonly kind: 'graph'; readonly value: GraphMsg };

export const attr = {
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  int: (value: number): AttrValue => {
    if (!Number.isSafeInteger(value)) throw new RangeError(`INT attribute must be an integer, got ${value}`);
    return { kind: 'int', value };
  },
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  tensor: (value: TensorMsg): AttrValue => ({ kind: 'tensor', value }),
  graph: (value: GraphMsg): AttrValue => ({ kind: 'graph', value }),
} as const;

/** The AttributeProto for one named attribute. */
export function toAttributeMsg(name: string, a: AttrValue): AttributeMsg {
  switch (a.kind) {
    case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
    case 'int': return { name, type: AttributeType.INT, i: a.value };
    case 'string': return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'ints': return { name, type: AttributeType.INTS, ints: [...a.value] };
    case 'tensor': return { name, type: AttributeType.TENSOR, t: a.value };
    case 'graph': return { name, type: AttributeType.GRAPH, g: a.value };
  }
}
