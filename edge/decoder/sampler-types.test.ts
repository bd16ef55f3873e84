import { describe, expect, it } from 'vitest';
import { samplerMismatch } from './sampler-types.js';

describe('sampler against model', () => {
  const velocity = { name: 'v', kind: 'denoiser' as const, parameterization: 'velocity' as const, fusedSampler: null };
  const epsilon = { ...velocity, name: 'e', parameterization: 'epsilon' as const };
  it('lets a sampler run the parameterisation it integrates', () => {
    expect(samplerMismatch('euler', velocity)).toBeNull();
    expect(samplerMismatch('heun', velocity)).toBeNull();
    expect(samplerMismatch('ddim', epsilon)).toBeNull();
    expect(samplerMismatch('ddpm', epsilon)).toBeNull();
  });
  it('names the sampler, the model and what each needs when they do not fit', () => {
    expect(samplerMismatch('ddim', velocity)).toBe('"ddim" integrates epsilon models; "v" is parameterised for velocity');
    expect(samplerMismatch('heun', epsilon)).toBe('"heun" integrates velocity models; "e" is parameterised for epsilon');
    expect(samplerMismatch('heun', { ...velocity, name: 'f', kind: 'fused', fusedSampler: 'euler' })).toBe('"heun" asked for, but the fused model "f" has euler baked in');
    expect(samplerMismatch('euler', { ...velocity, kind: 'fused', fusedSampler: 'euler' })).toBeNull();
  });
});
