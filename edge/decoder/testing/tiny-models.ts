/**
 * Tiny decoder models for validation tests, written with proto/onnx's GraphBuilder: a denoiser
 * whose output is 0.5 x_t (plus sqrt(latent) * 0, which is NaN for a negative latent, so a run
 * produces NaN on demand while the warm-up at latent 0 stays finite), with every metadata key
 * and every declared input/output overridable to make malformed files.
 */
import { GraphBuilder, type Dim } from '../../../proto/onnx/index.js';
import { CONTRACT_VERSION, MetaKey } from '../contract.js';

export const TINY = { H: 4, A: 3, Dz: 2, Ds: 3 } as const;

export function tinyMetadata(): Record<string, string> {
  const { H, A, Dz, Ds } = TINY;
  return {
    [MetaKey.CONTRACT]: CONTRACT_VERSION,
    [MetaKey.NAME]: 'tiny',
    [MetaKey.KIND]: 'denoiser',
    [MetaKey.PARAMETERIZATION]: 'velocity',
    [MetaKey.HORIZON]: String(H),
    [MetaKey.ACTION_DIM]: String(A),
    [MetaKey.LATENT_DIM]: String(Dz),
    [MetaKey.STATE_DIM]: String(Ds),
    [MetaKey.DEFAULT_STEPS]: '4',
    [MetaKey.ACTION_MEAN]: JSON.stringify([0, 0.5, -0.5]),
    [MetaKey.ACTION_STD]: JSON.stringify([1, 2, 0.5]),
    [MetaKey.STATE_MEAN]: JSON.stringify([0, 0, 0]),
    [MetaKey.STATE_STD]: JSON.stringify([1, 1, 1]),
    [MetaKey.LATENT_SPACE]: 'test/1',
    [MetaKey.SUPPORTS_PREFIX]: 'false',
  };
}

export interface TinyModelOptions {
  /** Metadata overrides; `undefined` removes the key. */
  meta?: Record<string, string | undefined>;
  inputs?: { name: string; dims: Dim[] }[];
  output?: { name: string; dims: Dim[] };
}

export function tinyDenoiser(o: TinyModelOptions = {}): Uint8Array {
  const { H, A, Dz, Ds } = TINY;
  const g = new GraphBuilder({ name: 'tiny' });
  const inputs = o.inputs ?? [
    { name: 'latent', dims: ['B', Dz] }, { name: 'state', dims: ['B', Ds] },
    { name: 'x_t', dims: ['B', H, A] }, { name: 't', dims: ['B'] },
  ];
  for (const i of inputs) g.input(i.name, i.dims);
  const x = inputs.find((i) => i.name === 'x_t' || i.name === 'noise')?.name ?? (inputs[0]?.name as string);
  const latent = inputs.find((i) => i.name === 'latent')?.name;
  let y = g.op('Mul', [x, g.constFloat([0.5], [])]);
  if (latent !== undefined) {
    const nanIfNegative = g.op('ReduceSum', [g.op('Mul', [g.op('Sqrt', [latent]), g.constFloat([0], [])])]);
    y = g.op('Add', [y, nanIfNegative]);
  }
  const out = o.output ?? { name: 'out', dims: ['B', H, A] };
  g.op('Identity', [y], {}, out.name);
  g.output(out.name, out.dims);
  const meta = { ...tinyMetadata(), ...(o.meta ?? {}) };
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) g.metadata(k, v);
  return g.toBytes();
}
