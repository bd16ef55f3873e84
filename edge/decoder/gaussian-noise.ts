/**
 * Seeded standard-normal noise (mulberry32 + Box–Muller, hardware/rng.ts): the same seed gives the
 * same noise on every platform, so a chunk is reproducible from (inputs, seed) and the starting
 * noise can be handed to a fused model to compare it with step-by-step sampling. Allocation-free.
 */
import { Rng } from '../../hardware/rng.js';

export class GaussianNoise {
  private rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  reseed(seed: number): void {
    this.rng = new Rng(seed);
  }

  next(): number {
    return this.rng.normal();
  }

  /** Fills `out` with independent N(0, 1) values. */
  fill(out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.rng.normal();
  }
}
