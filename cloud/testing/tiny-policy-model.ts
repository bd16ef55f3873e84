/**
 * A small policy model that fits the ONNX backend contract, written with the project's
 * GraphBuilder (no downloads), and the same function in TypeScript to check answers against:
 *   latent = state @ Ws + instruction @ Wi + mean(images) * wImg + b
 */
import { GraphBuilder, attr } from '../../proto/onnx/index.js';

export interface TinyPolicy {
  bytes: Uint8Array;
  /** The model's function for one batch row. */
  reference(state: ArrayLike<number>, instruction: ArrayLike<number>, imageMean: number): Float32Array;
}

export function tinyPolicyModel(o: { stateDim: number; instructionDim: number; latentDim: number; image: { height: number; width: number } | null; latentSpace: string }): TinyPolicy {
  const { stateDim: S, instructionDim: E, latentDim: D } = o;
  const Ws = Float32Array.from({ length: S * D }, (_, i) => Math.sin(i + 1) * 0.5);
  const Wi = Float32Array.from({ length: E * D }, (_, i) => Math.cos(i * 0.7) * 0.25);
  const wImg = Float32Array.from({ length: D }, (_, k) => 0.1 * (k + 1));
  const b = Float32Array.from({ length: D }, (_, k) => 0.01 * k);
  const g = new GraphBuilder({ name: 'tiny-policy' });
  g.metadata('spinal.latent_space', o.latentSpace);
  const state = g.input('state', ['B', S]);
  const instr = g.input('instruction', ['B', E]);
  let sum = g.op('Add', [g.op('MatMul', [state, g.initFloat('Ws', [S, D], Ws)]), g.op('MatMul', [instr, g.initFloat('Wi', [E, D], Wi)])]);
  if (o.image !== null) {
    const images = g.input('images', ['B', 3, o.image.height, o.image.width]);
    const mean = g.op('ReduceMean', [images], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) }); // [B]
    const col = g.op('Unsqueeze', [mean, g.constInt64([1])]); // [B, 1]
    sum = g.op('Add', [sum, g.op('Mul', [col, g.initFloat('wImg', [1, D], wImg)])]);
  }
  g.op('Add', [sum, g.initFloat('b', [D], b)], {}, 'latent');
  g.output('latent', ['B', D]);
  return {
    bytes: g.toBytes(),
    reference(st, ins, imageMean) {
      const z = new Float32Array(D);
      for (let k = 0; k < D; k++) {
        let v = (b[k] as number) + (o.image !== null ? imageMean * (wImg[k] as number) : 0);
        for (let i = 0; i < S; i++) v += (st[i] as number) * (Ws[i * D + k] as number);
        for (let i = 0; i < E; i++) v += (ins[i] as number) * (Wi[i * D + k] as number);
        z[k] = v;
      }
      return z;
    },
  };
}
