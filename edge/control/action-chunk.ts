/**
 * An action chunk from a policy server, brought onto the control schedule's grid: the brain sends
 * rows at the policy's own step (e.g. 50 Hz for π0, 16 rows at 30 Hz for GR00T's default), the
 * scheduler samples rows at the edge's step (control.stepMs). Both grids start at the answered
 * observation's capture: source row i targets capture + (i + 1)·srcStep, output row h targets
 * capture + (h + 1)·dstStep. Output rows are linear interpolations of the source rows (the store
 * then splines between them); a time before the first source row takes that row (nothing is
 * extrapolated), and output stops at the last source row's time or at `maxRows`.
 */
export interface ChunkOnWire {
  rows: number;
  stepUs: number;
  /** rows × jointCount, row-major, rad. */
  actions: ArrayLike<number>;
}

/** The chunk resampled to `dstStepUs`, at most `maxRows` rows; null when it covers less than one step. */
export function resampleChunk(c: ChunkOnWire, jointCount: number, dstStepUs: number, maxRows: number): Float32Array | null {
  if (!(c.rows >= 1 && c.stepUs > 0 && dstStepUs > 0 && maxRows >= 1) || c.actions.length !== c.rows * jointCount) return null;
  const rows = Math.min(maxRows, Math.floor((c.rows * c.stepUs) / dstStepUs + 1e-9));
  if (rows < 1) return null;
  const A = jointCount;
  const out = new Float32Array(rows * A);
  for (let h = 0; h < rows; h++) {
    const x = Math.min(c.rows - 1, Math.max(0, ((h + 1) * dstStepUs) / c.stepUs - 1));
    const i0 = Math.floor(x);
    const i1 = Math.min(c.rows - 1, i0 + 1);
    const w = x - i0;
    for (let j = 0; j < A; j++) {
      const a = c.actions[i0 * A + j] as number, b = c.actions[i1 * A + j] as number;
      out[h * A + j] = a + (b - a) * w;
    }
  }
  return out;
}
