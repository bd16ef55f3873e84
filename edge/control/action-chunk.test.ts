import { describe, expect, it } from 'vitest';
import { resampleChunk } from './action-chunk.js';

describe('resampleChunk', () => {
  it('keeps the grid when the steps agree and cuts at maxRows', () => {
    const c = { rows: 4, stepUs: 20_000, actions: [0, 10, 1, 11, 2, 12, 3, 13] };
    expect(Array.from(resampleChunk(c, 2, 20_000, 8) ?? [])).toEqual([0, 10, 1, 11, 2, 12, 3, 13]);
    expect(Array.from(resampleChunk(c, 2, 20_000, 2) ?? [])).toEqual([0, 10, 1, 11]);
  });

  it('interpolates a coarser policy grid onto a finer control grid, row times aligned to the capture', () => {
    // Policy rows at 40, 80, 120 ms; control rows at 20, 40, ..., 120 ms.
    const out = resampleChunk({ rows: 3, stepUs: 40_000, actions: [4, 8, 12] }, 1, 20_000, 100);
    expect(Array.from(out ?? [])).toEqual([4, 4, 6, 8, 10, 12]);
  });

  it('covers no more time than the source, and nothing when it covers less than one step', () => {
    expect(resampleChunk({ rows: 3, stepUs: 10_000, actions: [1, 2, 3] }, 1, 20_000, 100)?.length).toBe(1);
    expect(resampleChunk({ rows: 1, stepUs: 10_000, actions: [1] }, 1, 20_000, 100)).toBeNull();
    expect(resampleChunk({ rows: 2, stepUs: 10_000, actions: [1] }, 1, 10_000, 100)).toBeNull();
  });
});
