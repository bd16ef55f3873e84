/** A fused model (the sampling loop inside one ONNX call) and the TS samplers calling the per-step
 * model give the same chunk for the same starting noise, within float32 tolerance. */
import { describe, expect, it } from 'vitest';
import { loadDecoder } from './decoder-loader.js';
import { buildFusedDecoder } from './models/fused-decoder.js';
import { buildReferenceDecoder, referenceEmitter } from './models/reference-decoder.js';
import { referenceInputs, referenceOptions } from './testing/reference-fixture.js';

const B = 8;

describe('fused and step-by-step sampling agree', () => {
  it.each([['epsilon', 'ddim', 4], ['epsilon', 'ddim', 10], ['velocity', 'euler', 4], ['velocity', 'euler', 10]] as const)(
    '%s model, %s with %i steps', async (parameterization, sampler, steps) => {
      const opts = referenceOptions(parameterization);
      const step = await loadDecoder(buildReferenceDecoder(opts), { batch: B });
      const fused = await loadDecoder(buildFusedDecoder(referenceEmitter(opts), { sampler, steps }), { batch: B });
      expect(fused.info.spec.kind).toBe('fused');
      const { latent, state } = referenceInputs(7);
      const noise = new Float32Array(B * 16 * 7);
      for (let i = 0; i < noise.length; i++) noise[i] = Math.sin(12.9898 * i) * 1.7;
      const a = await step.core.decode({ latent, state, noise, sampler, steps }, () => false);
      const aCopy = a.status === 'done' ? a.actions.slice() : null;
      const b = await fused.core.decode({ latent, state, noise }, () => false);
      expect(a.status === 'done' && b.status === 'done').toBe(true);
      if (aCopy === null || b.status !== 'done') return;
      let maxDiff = 0, maxAbs = 0;
      for (let i = 0; i < aCopy.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((aCopy[i] as number) - (b.actions[i] as number)));
        maxAbs = Math.max(maxAbs, Math.abs(aCopy[i] as number));
      }
      expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
      await step.session.release();
      await fused.session.release();
    });

  it('a fused model refuses another sampler or step count, and a prefix it does not take', async () => {
    const opts = referenceOptions('velocity');
    const fused = await loadDecoder(buildFusedDecoder(referenceEmitter(opts), { sampler: 'euler', steps: 4 }));
    const { latent, state } = referenceInputs(7);
    await expect(fused.core.decode({ latent, state, steps: 10 }, () => false)).rejects.toMatchObject({ code: 'bad-request' });
    await expect(fused.core.decode({ latent, state, prefix: { actions: new Float32Array(7), committed: 1 } }, () => false))
      .rejects.toMatchObject({ code: 'prefix-unsupported' });
    await fused.session.release();
  });
});
