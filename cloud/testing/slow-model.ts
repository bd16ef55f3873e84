/**
 * An ONNX model as slow as asked, for load tests and benchmarks: `layers` MatMul + Tanh over
 * `width` features, input "state" [B, width] -> output "latent" [B, width]. Its run time grows
 * with B x width² x layers (no sleep operator exists in ONNX; plain arithmetic is the honest way).
 */
import { GraphBuilder } from '../../proto/onnx/index.js';

export function slowModel(o: { width: number; layers: number; latentSpace?: string }): Uint8Array {
  const N = o.width;
  const g = new GraphBuilder({ name: 'slow' });
  g.metadata('spinal.latent_space', o.latentSpace ?? 'test.slow/1');
  let h = g.input('state', ['B', N]);
  for (let i = 0; i < o.layers; i++) h = g.op('Tanh', [g.op('MatMul', [h, g.initFloat(`w${i}`, [N, N], new Float32Array(N * N).fill(1 / N))])]);
  g.op('Identity', [h], {}, 'latent');
  g.output('latent', ['B', N]);
  return g.toBytes();
}
