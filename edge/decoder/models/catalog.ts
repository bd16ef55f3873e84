/**
 * The models `spinal models` writes: the reference decoders for every robot profile (epsilon and
 * velocity, with their fused DDIM / Euler variants) and the benchmark DiTs of every preset (with a
 * fused Euler variant). Entries build lazily, so a caller holds one big model at a time.
 */
import { getProfile, listProfiles } from '../../../hardware/index.js';
import { goalRangeFromLimits } from '../../../proto/latent/reference-goal.js';
import type { Parameterization } from '../contract.js';
import type { DenoiserEmitter } from './denoiser-emitter.js';
import { buildDenoiserModel } from './denoiser-emitter.js';
import { ditEmitter } from './dit-decoder.js';
import { DIT_PRESETS, type DitPresetName } from './dit-presets.js';
import { buildFusedDecoder } from './fused-decoder.js';
import { referenceEmitter } from './reference-decoder.js';

export interface CatalogEntry {
  name: string;
  group: 'reference' | 'benchmark';
  /** The DiT preset, for benchmark entries. */
  preset: DitPresetName | null;
  kind: 'denoiser' | 'fused';
  /** Only built when named explicitly (the GR00T-sized DiT: ~2.1 GB). */
  onRequestOnly: boolean;
  parameterCount: number;
  build(): Uint8Array;
}

export interface CatalogOptions {
  /** Benchmark chunk shape (default H = 16, A = 7, Dz = 32, Ds = A). */
  horizon?: number;
  actionDim?: number;
  latentDim?: number;
  /** Steps baked into the fused variants (default 10). */
  fusedSteps?: number;
  /** Benchmark parameterisation (default velocity, as GR00T and pi0 are flow models). */
  parameterization?: Parameterization;
}

function pair(emitter: DenoiserEmitter, base: Omit<CatalogEntry, 'name' | 'kind' | 'build' | 'parameterCount'>, steps: number): CatalogEntry[] {
  const sampler = emitter.spec.parameterization === 'epsilon' ? 'ddim' : 'euler';
  const fusedName = `${emitter.spec.name}-fused-${sampler}${steps}`;
  return [
    { ...base, name: emitter.spec.name, kind: 'denoiser', parameterCount: emitter.parameterCount, build: () => buildDenoiserModel(emitter) },
    {
      ...base, name: fusedName, kind: 'fused', parameterCount: emitter.parameterCount,
      build: () => buildFusedDecoder(emitter, { sampler, steps, name: fusedName }),
    },
  ];
}

export function modelCatalog(o: CatalogOptions = {}): CatalogEntry[] {
  const steps = o.fusedSteps ?? 10;
  const out: CatalogEntry[] = [];
  for (const id of listProfiles()) {
    const joints = getProfile(id).joints;
    const lower = joints.map((j) => j.limits.positionMin), upper = joints.map((j) => j.limits.positionMax);
    const range = goalRangeFromLimits(lower, upper);
    for (const p of ['epsilon', 'velocity'] as const) {
      // Normalisation: joint range -> [-1, 1] for actions and state alike, so the latent goal and
      // the chunk share one scale. Spread: sigma 5e-4 of the half range (arm: 1.3 mrad at most,
      // and only while a joint is far from its goal) with a 100 ms correlation length (H / 3 rows
      // of 20 ms). Measured with `spinal eval`: 0.02 (the earlier value) made a held arm tremble
      // by 2.4 deg and a reach hit the acceleration clamp hundreds of times; at 200 Hz a step of
      // 0.3 mrad between chunks already saturates the arm's 12 rad/s^2.
      const emitter = referenceEmitter({
        name: `reference-${id}-${p}`, actionDim: joints.length, horizon: 16, parameterization: p,
        actionMean: range.center, actionStd: range.halfRange, stateMean: range.center, stateStd: range.halfRange,
        goalRange: range, sigma: 0.0005, lengthScale: 16 / 3,
      });
      out.push(...pair(emitter, { group: 'reference', preset: null, onRequestOnly: false }, steps));
    }
  }
  const A = o.actionDim ?? 7, H = o.horizon ?? 16, Dz = o.latentDim ?? 32;
  for (const [preset, shape] of Object.entries(DIT_PRESETS) as [DitPresetName, (typeof DIT_PRESETS)[DitPresetName]][]) {
    const emitter = ditEmitter({
      ...shape, name: `${preset}-a${A}-h${H}`, actionDim: A, stateDim: A, latentDim: Dz, horizon: H,
      parameterization: o.parameterization ?? 'velocity', seed: 1,
    });
    out.push(...pair(emitter, { group: 'benchmark', preset, onRequestOnly: shape.nominalParams > 100e6 }, steps));
  }
  return out;
}

/** Entries selected by `which` (names, groups "reference" / "benchmark", preset names, "all");
 * with no selection, every entry not marked onRequestOnly. */
export function selectEntries(entries: readonly CatalogEntry[], which?: readonly string[]): CatalogEntry[] {
  if (which === undefined || which.length === 0) return entries.filter((e) => !e.onRequestOnly);
  const w = new Set(which);
  const picked = entries.filter((e) => w.has(e.name) || w.has(e.group) || (e.preset !== null && w.has(e.preset))
    || (w.has('all') && !e.onRequestOnly));
  return picked.filter((e) => !e.onRequestOnly || w.has(e.name) || (e.preset !== null && w.has(e.preset)));
}
