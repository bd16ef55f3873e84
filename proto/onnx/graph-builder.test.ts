import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr } from './attributes.js';
import { GraphBuilder } from './graph-builder.js';
import { readModel } from './read-model.js';
import { DataType, OnnxTypes } from './schema.js';

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}
const f32 = (data: number[], dims: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(data), dims);
const values = (t: ort.Tensor | undefined): number[] => Array.from(t?.data as Float32Array);

describe('GraphBuilder', () => {
  it('writes a model ORT runs, with every op kind the decoders use giving known numbers', async () => {
    const g = new GraphBuilder({ name: 'ops' });
    g.input('x', ['B', 2, 2]);
    g.input('t', ['B']);
    const s = (v: number): string => g.constFloat([v], []);
    // MatMul with a [2, 2] initializer broadcast over the batch, Add, Sub, Mul, Div
    const m = g.op('MatMul', [g.constFloat([1, 2, 3, 4], [2, 2]), 'x']);
    g.op('Div', [g.op('Sub', [g.op('Mul', [g.op('Add', [m, s(1)]), s(2)]), s(2)]), s(2)], {}, 'lin'); // = m
    // Gather from a table by Round + Clip + Cast(int64) of t, Reshape to [B, 1, 1]
    const k = g.op('Cast', [g.op('Clip', [g.op('Round', ['t']), s(0), s(3)])], { to: attr.int(DataType.INT64) });
    g.op('Reshape', [g.op('Gather', [g.constFloat([10, 20, 30, 40]), k]), g.constInt64([-1, 1, 1])], {}, 'gathered');
    // Softmax, LayerNormalization (FLOAT attr), Transpose (INTS attr)
    g.op('Softmax', ['x'], { axis: attr.int(-1) }, 'soft');
    g.op('LayerNormalization', ['x', g.constFloat([1, 1])], { axis: attr.int(-1), epsilon: attr.float(0) }, 'ln');
    g.op('Transpose', ['x'], { perm: attr.ints([0, 2, 1]) }, 'xt');
    // elementwise: Sigmoid, Erf, Sin, Cos, Exp, Sqrt, Max
    g.op('Max', [g.op('Sqrt', [g.op('Exp', [g.op('Sin', [g.op('Cos', [g.op('Erf', [g.op('Sigmoid', ['x'])])])])])]), s(0)], {}, 'chain');
    // Split / Concat / Slice / Unsqueeze / Shape / Expand
    const [a, b] = g.node('Split', ['x', g.constInt64([1, 1])], 2, { axis: attr.int(2) }) as [string, string];
    g.node('Concat', [b, a], ['swapped'], { axis: attr.int(2) });
    g.op('Slice', ['x', g.constInt64([1]), g.constInt64([2]), g.constInt64([1])], {}, 'row1');
    const batch = g.op('Shape', ['x'], { start: attr.int(0), end: attr.int(1) });
    const shape = g.node('Concat', [batch, g.constInt64([3])], 1, { axis: attr.int(0) })[0] as string;
    g.op('Expand', [g.op('Unsqueeze', [g.constFloat([5], []), g.constInt64([0])]), shape], {}, 'expanded');
    // TENSOR and FLOATS attributes (Constant), GRAPH attributes (If)
    g.node('Constant', [], ['ct'], { value: attr.tensor({ name: 'v', dims: [2], data_type: DataType.FLOAT, raw_data: new Uint8Array(Float32Array.from([7, 8]).buffer) }) });
    g.node('Constant', [], ['cf'], { value_floats: attr.floats([1.5, 2.5]) });
    const branch = (v: number): GraphBuilder => {
      const sub = new GraphBuilder({ name: `b${v}` });
      sub.node('Constant', [], [`o${v}`], { value_floats: attr.floats([v]) });
      sub.output(`o${v}`, [1]);
      return sub;
    };
    const cond = g.op('Cast', [g.op('ReduceSum', ['t'], { keepdims: attr.int(0) })], { to: attr.int(DataType.BOOL) });
    g.node('If', [cond], ['branch'], { then_branch: attr.graph(branch(1).toGraph()), else_branch: attr.graph(branch(2).toGraph()) });
    for (const o of ['lin', 'gathered', 'soft', 'ln', 'xt', 'chain', 'swapped', 'row1', 'expanded', 'ct', 'cf', 'branch']) g.output(o);
    g.metadata('spinal.test', 'yes');

    const x = [1, 0, 0, 1, 1, 2, 3, 4];
    const r = await run(g.toBytes(), { x: f32(x, [2, 2, 2]), t: f32([1.2, 7], [2]) });
    expect(values(r.lin)).toEqual([1, 2, 3, 4, 7, 10, 15, 22]);
    expect(values(r.gathered)).toEqual([20, 40]);
    expect(values(r.soft)[0]).toBeCloseTo(Math.E / (Math.E + 1), 6);
    expect(values(r.ln)).toEqual([1, -1, -1, 1, -1, 1, -1, 1].map((v) => expect.closeTo(v, 5)));
    expect(values(r.xt)).toEqual([1, 0, 0, 1, 1, 3, 2, 4]);
    const chain = (v: number): number => Math.max(0, Math.sqrt(Math.exp(Math.sin(Math.cos(erf(1 / (1 + Math.exp(-v))))))));
    values(r.chain).forEach((v, i) => expect(v).toBeCloseTo(chain(x[i] as number), 5));
    expect(values(r.swapped)).toEqual([0, 1, 1, 0, 2, 1, 4, 3]);
    expect(values(r.row1)).toEqual([0, 1, 3, 4]);
    expect(r.expanded?.dims).toEqual([2, 3]);
    expect(values(r.ct)).toEqual([7, 8]);
    expect(values(r.cf)).toEqual([1.5, 2.5]);
    expect(values(r.branch)).toEqual([1]);
  });

  it('round-trips metadata, opset, IR version, shapes and a STRING attribute through the schema', () => {
    const g = new GraphBuilder({ name: 'meta', producerName: 'spinal-test' });
    g.input('x', ['B', 3]);
    g.node('Identity', ['x'], ['y'], { note: attr.string('héllo') });
    g.output('y', ['B', 3]);
    g.metadata('a', '1').metadata('b', '[1,2]');
    const bytes = g.toBytes();
    const s = readModel(bytes);
    expect(s.metadata).toEqual({ a: '1', b: '[1,2]' });
    expect(s.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(s.irVersion).toBe(8);
    expect(s.producerName).toBe('spinal-test');
    expect(s.inputs).toEqual([{ name: 'x', elemType: DataType.FLOAT, dims: ['B', 3] }]);
    const node = (OnnxTypes.ModelProto.toObject(OnnxTypes.ModelProto.decode(bytes)) as {
      graph: { node: { attribute: { s: Uint8Array }[] }[] };
    }).graph.node[0];
    expect(new TextDecoder().decode(node?.attribute[0]?.s)).toBe('héllo');
  });

  it('shares allocated weight bytes and refuses duplicate names and bad shapes', () => {
    const g = new GraphBuilder({ name: 'w' });
    const w = g.allocFloat('w', [2, 3]);
    w.fill(0.5);
    expect(g.floatElementCount).toBe(6);
    expect(() => g.allocFloat('w', [1])).toThrow(/duplicate/);
    expect(() => g.initFloat('v', [2], [1, 2, 3])).toThrow(/values/);
    expect(() => attr.int(1.5)).toThrow(/integer/);
    g.output('w');
    expect(readModel(g.toBytes()).floatInitializerElements).toBe(6);
  });
});

/** Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return Math.sign(x) * y;
}
