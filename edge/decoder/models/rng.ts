/** A small seeded PRNG (mulberry32) for reproducible weights; not for cryptography. */
export class SeededRng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Fills `out` with uniform values of mean 0 and standard deviation `std` (in place). */
  fillUniform(out: Float32Array, std: number): Float32Array {
    const a = std * Math.sqrt(3) * 2;
    for (let i = 0; i < out.length; i++) out[i] = (this.next() - 0.5) * a;
    return out;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
