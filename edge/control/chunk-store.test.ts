import { describe, expect, it } from 'vitest';
import { ChunkStore } from './chunk-store.js';

/** A chunk of H rows of one joint sampled from a smooth trajectory q(t) at originUs + (h + 1) step. */
function storeOf(q: (tS: number) => number, H: number, stepUs: number, originUs: number): ChunkStore {
  const st = new ChunkStore(1, H, 1, stepUs);
  st.put(Float64Array.from({ length: H }, (_, h) => q((originUs + (h + 1) * stepUs) / 1e6)), originUs, originUs);
  return st;
}

describe('ChunkStore sampling', () => {
  const H = 16, stepUs = 20_000, origin = 1_000_000;
  const q = (t: number): number => 0.7 * Math.sin(3 * t) + 0.2 * t * t; // |q'''| < 20 rad/s^3
  const st = storeOf(q, H, stepUs, origin);
  const slot = st.slots[0];
  if (slot === undefined) throw new Error('no slot');
  const out = new Float64Array(1);
  const at = (tUs: number): number => { st.sample(slot, tUs, out); return out[0] as number; };

  it('passes through every row and follows the trajectory between rows, also before row 0', () => {
    for (let h = 0; h < H; h++) expect(at(origin + (h + 1) * stepUs)).toBeCloseTo(q((origin + (h + 1) * stepUs) / 1e6), 12);
    for (let tUs = origin; tUs <= origin + H * stepUs; tUs += 1000) expect(Math.abs(at(tUs) - q(tUs / 1e6))).toBeLessThan(2e-4);
  });

  it('has a continuous velocity at the 200 Hz tick: no step at row boundaries (the acceleration a limiter sees stays near the trajectory\'s)', () => {
    const dt = 5000;
    let worst = 0;
    for (let tUs = origin + dt; tUs + dt <= origin + H * stepUs; tUs += dt) {
      const acc = (at(tUs + dt) - 2 * at(tUs) + at(tUs - dt)) / (dt / 1e6) ** 2;
      const truth = (q((tUs + dt) / 1e6) - 2 * q(tUs / 1e6) + q((tUs - dt) / 1e6)) / (dt / 1e6) ** 2;
      worst = Math.max(worst, Math.abs(acc - truth));
    }
    // Catmull-Rom: 6.1 rad/s^2 at worst here (its acceleration is piecewise linear); linear
    // interpolation between the same rows: 14.2, a velocity step at every row.
    expect(worst).toBeLessThan(8);
  });
});
