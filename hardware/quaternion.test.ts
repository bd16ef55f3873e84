import { describe, expect, it } from 'vitest';
import { quatAngle, quatIntegrateBodyRate, quatMultiply, quatRotate, quatRotateInverse } from './quaternion.js';
import { Rng } from './rng.js';

const s = Math.SQRT1_2;

describe('quaternions', () => {
  it('rotate vectors by the Hamilton convention, and back', () => {
    const zQuarter = Float64Array.of(s, 0, 0, s); // +90° about z
    const out = new Float64Array(3);
    quatRotate(out, zQuarter, [1, 0, 0]);
    [0, 1, 0].forEach((e, i) => expect(out[i]).toBeCloseTo(e, 12));
    quatRotateInverse(out, zQuarter, out);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeCloseTo(0, 12);
  });

  it('compose right to left: a ⊗ b applies b first', () => {
    const x = Float64Array.of(s, s, 0, 0), z = Float64Array.of(s, 0, 0, s);
    const xz = quatMultiply(new Float64Array(4), x, z);
    const direct = quatRotate(new Float64Array(3), x, quatRotate(new Float64Array(3), z, [1, 0, 0]));
    const composed = quatRotate(new Float64Array(3), xz, [1, 0, 0]);
    composed.forEach((c, i) => expect(c).toBeCloseTo(direct[i] as number, 12));
  });

  it('integrate a body rate exactly for a constant rate', () => {
    const q = Float64Array.of(1, 0, 0, 0);
    for (let k = 0; k < 1000; k++) quatIntegrateBodyRate(q, 0, 0, 1, Math.PI / 1000);
    expect(quatAngle(q)).toBeCloseTo(Math.PI, 9);
  });
});

describe('Rng', () => {
  it('repeats for a seed and gives standard normals', () => {
    const a = new Rng(9), b = new Rng(9);
    let sum = 0, sum2 = 0;
    for (let k = 0; k < 20000; k++) {
      const x = a.normal();
      expect(b.normal()).toBe(x);
      sum += x;
      sum2 += x * x;
    }
    expect(Math.abs(sum / 20000)).toBeLessThan(0.03);
    expect(sum2 / 20000).toBeCloseTo(1, 1);
  });
});
