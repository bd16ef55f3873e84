/**
 * Training-free prefix inpainting (in the spirit of real-time chunking, Black et al. 2025, and
 * RePaint, Lugmayr et al. 2022): the actions already committed while a new chunk was computed are
 * imposed on the new chunk during sampling, so it continues the old one without a jump.
 *
 * Per row j of the chunk a weight w_j: 1 for committed rows [0, k), a linear ramp down from
 * `softWeight` for the optional soft rows [k, m) (the rest of the old chunk, guiding the boundary),
 * 0 beyond. Before each model evaluation the rows are blended towards the prefix noised to the
 * current level with the sample's own starting noise eps0 (deterministic, so DDIM stays a
 * deterministic map of its noise):
 *   x[j] <- w_j * (c_data * p[j] + c_noise * eps0[j]) + (1 - w_j) * x[j]
 * epsilon: c_data = sqrt(abar_k), c_noise = sqrt(1 - abar_k); flow: c_data = t, c_noise = 1 - t.
 * After the last step x[j] <- w_j p[j] + (1 - w_j) x[j], so committed rows equal the prefix
 * (exactly in robot units: the runtime overwrites them with the given actions after
 * de-normalising).
 *
 * Invariant: `rows` = m <= H; weights[j] = 0 for j >= rows; prefix rows >= rows are 0.
 */
export class PrefixInpainter {
  /** Rows carrying a weight > 0 (m); 0 when inactive. */
  rows = 0;
  committed = 0;
  /** Per-row weight, length H. */
  readonly weights: Float32Array;
  /** The normalised prefix for one batch row, [H, A]. */
  readonly prefix: Float32Array;

  constructor(private readonly horizon: number, private readonly actionDim: number) {
    this.weights = new Float32Array(horizon);
    this.prefix = new Float32Array(horizon * actionDim);
  }

  /** Deactivates inpainting. */
  clear(): void {
    this.rows = 0;
    this.committed = 0;
    this.weights.fill(0);
    this.prefix.fill(0);
  }

  /**
   * Activates it with a prefix already normalised: `normalised` holds m rows of A values,
   * `committed` <= m rows are hard, the rest soft with a ramp starting at `softWeight` in [0, 1].
   */
  set(normalised: Float32Array, committed: number, softWeight: number): void {
    const A = this.actionDim;
    const m = normalised.length / A;
    this.clear();
    this.rows = m;
    this.committed = committed;
    this.prefix.set(normalised);
    for (let j = 0; j < m; j++) {
      this.weights[j] = j < committed ? 1 : softWeight * (1 - (j - committed + 1) / (m - committed + 1));
    }
  }

  /** Fills the model's optional prefix inputs: the prefix for every batch row, mask 1 on committed rows. */
  fillModelInputs(io: { readonly batch: number; readonly prefix: Float32Array; readonly prefixMask: Float32Array }): void {
    const HA = this.horizon * this.actionDim;
    for (let b = 0; b < io.batch; b++) {
      io.prefix.set(this.prefix, b * HA);
      for (let j = 0; j < this.horizon; j++) io.prefixMask[b * this.horizon + j] = j < this.committed ? 1 : 0;
    }
  }

  /** Blends x towards c_data * prefix + c_noise * eps0 on weighted rows. */
  applyNoised(x: Float32Array, eps0: Float32Array, batch: number, cData: number, cNoise: number): void {
    if (this.rows === 0) return;
    const A = this.actionDim;
    const HA = this.horizon * A;
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < this.rows; j++) {
        const w = this.weights[j] as number;
        if (w === 0) continue;
        for (let a = 0; a < A; a++) {
          const i = b * HA + j * A + a;
          const target = cData * (this.prefix[j * A + a] as number) + cNoise * (eps0[i] as number);
          x[i] = w * target + (1 - w) * (x[i] as number);
        }
      }
    }
  }

  /** The final blend: committed rows become the prefix. */
  applyFinal(x: Float32Array, batch: number): void {
    this.applyNoised(x, x, batch, 1, 0);
  }
}
