import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModel } from '../../../proto/onnx/index.js';
import { MetaKey } from '../contract.js';
import { modelCatalog, selectEntries } from './catalog.js';
import { runModels } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spinal models', () => {
  it('selects by group, preset and name, keeping the GR00T-sized DiT on request only', () => {
    const c = modelCatalog();
    const names = selectEntries(c).map((e) => e.name);
    expect(names.some((n) => n.startsWith('gr00t'))).toBe(false);
    expect(names).toContain('dit-l-a7-h16-fused-euler10');
    expect(selectEntries(c, ['all']).some((e) => e.preset === 'gr00t-n15-like')).toBe(false);
    expect(selectEntries(c, ['gr00t-n15-like'])).toHaveLength(2);
    expect(selectEntries(c, ['reference']).every((e) => e.group === 'reference')).toBe(true);
  });

  it('writes the reference decoders with their metadata and prints a table', async () => {
    const lines: string[] = [];
    expect(await runModels({ out: dir, which: ['reference', 'dit-s'], log: (l) => lines.push(l) })).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toContain('reference-arm6-gripper-epsilon.onnx');
    expect(files).toContain('reference-quadruped12-velocity-fused-euler10.onnx');
    expect(files).toContain('dit-s-a7-h16.onnx');
    const m = readModel(readFileSync(join(dir, 'reference-quadruped12-epsilon-fused-ddim10.onnx'))).metadata;
    expect(m[MetaKey.ACTION_DIM]).toBe('12');
    expect(m[MetaKey.FUSED_SAMPLER]).toBe('ddim');
    expect(lines.length).toBe(files.length + 1);
    expect(await runModels({ out: dir, which: ['nope'], log: () => undefined })).toBe(2);
  });
});
