/**
 * The instruction as a fixed-length vector, for models that take text without a tokenizer of
 * their own: a signed hashing bag of words (the "hashing trick"), L2-normalised. Reproducible in
 * any language (ONNX_BACKEND.md gives the Python):
 *   tokens: the instruction lower-cased, split on every character that is not a-z or 0-9;
 *   h = FNV-1a 32-bit of the token's UTF-8 bytes; index = h mod dim; sign = -1 if h >= 2^31 else +1;
 *   v[index] += sign for each token; then v /= ||v|| (an empty instruction is all zeros).
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h >>> 0;
}

export function instructionTokens(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t !== '');
}

export function embedInstruction(text: string, dim: number, out: Float32Array = new Float32Array(dim), offset = 0): Float32Array {
  if (!(Number.isInteger(dim) && dim > 0)) throw new RangeError(`embedding dim must be a positive integer, got ${dim}`);
  const v = new Float64Array(dim);
  for (const t of instructionTokens(text)) {
    const h = fnv1a32(t);
    v[h % dim] = (v[h % dim] as number) + (h >= 0x80000000 ? -1 : 1);
  }
  let n = 0;
  for (const x of v) n += x * x;
  const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < dim; i++) out[offset + i] = (v[i] as number) * scale;
  return out;
}
