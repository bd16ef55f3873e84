/** Helpers for the model tests (imported only by *.test.ts): run an ONNX model on float inputs. */
import ort from 'onnxruntime-node';

export type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

export async function runOnnx(bytes: Uint8Array, feeds: Feeds, output: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
    const r = await session.run(f);
    const t = r[output];
    if (t === undefined) throw new Error(`no output ${output}`);
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
