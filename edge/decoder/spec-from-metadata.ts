/**
 * Reads a DecoderSpec from a model's metadata_props (contract.ts) and refuses metadata that does
 * not fit: a missing key, an unknown contract version, a value that does not parse or is out of
 * range, normalisation vectors of the wrong length, non-finite, or with std <= 0. Every problem is
 * collected; the error's code is the first problem's, its message lists them all, each naming its
 * key and the value found.
 */
import {
  CONTRACT_VERSION, MetaKey, type BetaSchedule, type DecoderKind, type DecoderSpec, type FusedSampler,
  type Parameterization,
} from './contract.js';
import { DecoderError, type DecoderErrorCode } from './decoder-error.js';

interface Issue { code: DecoderErrorCode; key: string; text: string }

function show(v: string): string {
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
}

class MetadataReader {
  readonly issues: Issue[] = [];
  constructor(private readonly meta: ReadonlyMap<string, string>) {}

  private fail(code: DecoderErrorCode, key: string, text: string): null {
    this.issues.push({ code, key, text: `${key}: ${text}` });
    return null;
  }

  raw(key: string, required = true): string | null {
    const v = this.meta.get(key);
    if (v === undefined) return required ? this.fail('missing-metadata', key, 'missing metadata key') : null;
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], required = true): T | null {
    const v = this.raw(key, required);
    if (v === null) return null;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    return this.fail('bad-metadata', key, `${show(v)} is not one of ${allowed.join(', ')}`);
  }

  int(key: string, min: number, required = true): number | null {
    const v = this.raw(key, required);
    if (v === null) return null;
    const n = /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min) return this.fail('bad-metadata', key, `${show(v)} is not an integer >= ${min}`);
    return n;
  }

  real(key: string, lo: number, hi: number, required = true): number | null {
    const v = this.raw(key, required);
    if (v === null) return null;
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n <= lo || n >= hi) return this.fail('bad-metadata', key, `${show(v)} is not a number in (${lo}, ${hi})`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key, false);
    if (v === null) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    this.fail('bad-metadata', key, `${show(v)} is not true or false`);
    return fallback;
  }

  /** A JSON array of `length` finite numbers (> 0 when `positive`). */
  vector(key: string, length: number | null, positive: boolean): Float32Array {
    const empty = new Float32Array(length ?? 0);
    const v = this.raw(key);
    if (v === null) return empty;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      this.fail('bad-normalisation', key, `${show(v)} is not a JSON array of numbers`);
      return empty;
    }
    if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'number')) {
      this.fail('bad-normalisation', key, `${show(v)} is not a JSON array of numbers`);
      return empty;
    }
    const arr = parsed as number[];
    if (length !== null && arr.length !== length) {
      this.fail('bad-normalisation', key, `has ${arr.length} values, expected ${length}`);
      return empty;
    }
    const out = Float32Array.from(arr);
    for (let i = 0; i < arr.length; i++) {
      const x = out[i] as number;
      if (!Number.isFinite(x)) {
        this.fail('bad-normalisation', key, `value ${i} is ${String(arr[i])}, not finite in float32`);
        return empty;
      }
      if (positive && !(x > 0)) {
        this.fail('bad-normalisation', key, `value ${i} is ${String(arr[i])}; a standard deviation must be > 0`);
        return empty;
      }
    }
    return out;
  }
}

const KINDS: readonly DecoderKind[] = ['denoiser', 'fused'];
const PARAMS: readonly Parameterization[] = ['epsilon', 'velocity'];
const SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'cosine'];
const FUSED_SAMPLERS: readonly FusedSampler[] = ['ddim', 'euler'];
/** The parameterisation each fused sampler integrates. */
const FUSED_NEEDS: Record<FusedSampler, Parameterization> = { ddim: 'epsilon', euler: 'velocity' };

/** The DecoderSpec of a model's metadata; throws DecoderError naming every problem. */
export function specFromMetadata(meta: ReadonlyMap<string, string>): DecoderSpec {
  const r = new MetadataReader(meta);
  const contract = r.raw(MetaKey.CONTRACT);
  if (contract !== null && contract !== CONTRACT_VERSION) {
    // Nothing else can be trusted under another contract: refuse before reading further keys.
    throw new DecoderError('contract-version',
      `${MetaKey.CONTRACT}: unknown contract version ${show(contract)}; this runtime implements ${JSON.stringify(CONTRACT_VERSION)}`,
      { key: MetaKey.CONTRACT, value: contract });
  }
  const kind = r.oneOf(MetaKey.KIND, KINDS);
  const parameterization = r.oneOf(MetaKey.PARAMETERIZATION, PARAMS);
  const horizon = r.int(MetaKey.HORIZON, 1);
  const actionDim = r.int(MetaKey.ACTION_DIM, 1);
  const latentDim = r.int(MetaKey.LATENT_DIM, 1);
  const stateDim = r.int(MetaKey.STATE_DIM, 1);
  const defaultSteps = r.int(MetaKey.DEFAULT_STEPS, 1);
  const latentSpace = r.raw(MetaKey.LATENT_SPACE);
  if (latentSpace !== null && latentSpace.trim() === '') r.issues.push({ code: 'bad-metadata', key: MetaKey.LATENT_SPACE, text: `${MetaKey.LATENT_SPACE}: empty` });
  const supportsPrefix = r.bool(MetaKey.SUPPORTS_PREFIX, false);
  const name = r.raw(MetaKey.NAME, false) ?? 'unnamed';

  const epsilon = parameterization === 'epsilon';
  const trainSteps = epsilon ? r.int(MetaKey.TRAIN_STEPS, 2) : null;
  const betaSchedule = epsilon ? r.oneOf(MetaKey.BETA_SCHEDULE, SCHEDULES) : null;
  // Cosine needs no endpoints; the others need 0 < start <= end < 1.
  const needBetas = epsilon && betaSchedule !== 'cosine';
  const betaStart = needBetas ? r.real(MetaKey.BETA_START, 0, 1) : null;
  const betaEnd = needBetas ? r.real(MetaKey.BETA_END, 0, 1) : null;
  if (betaStart !== null && betaEnd !== null && betaStart > betaEnd) {
    r.issues.push({ code: 'bad-metadata', key: MetaKey.BETA_END, text: `${MetaKey.BETA_END}: ${betaEnd} is below ${MetaKey.BETA_START} ${betaStart}` });
  }

  const fused = kind === 'fused';
  const fusedSampler = fused ? r.oneOf(MetaKey.FUSED_SAMPLER, FUSED_SAMPLERS) : null;
  const fusedSteps = fused ? r.int(MetaKey.FUSED_STEPS, 1) : null;
  if (fusedSampler !== null && parameterization !== null && FUSED_NEEDS[fusedSampler] !== parameterization) {
    r.issues.push({ code: 'bad-metadata', key: MetaKey.FUSED_SAMPLER,
      text: `${MetaKey.FUSED_SAMPLER}: ${fusedSampler} integrates a ${FUSED_NEEDS[fusedSampler]} model, but ${MetaKey.PARAMETERIZATION} is ${parameterization}` });
  }

  const actionMean = r.vector(MetaKey.ACTION_MEAN, actionDim, false);
  const actionStd = r.vector(MetaKey.ACTION_STD, actionDim, true);
  const stateMean = r.vector(MetaKey.STATE_MEAN, stateDim, false);
  const stateStd = r.vector(MetaKey.STATE_STD, stateDim, true);

  const first = r.issues[0];
  if (first !== undefined) {
    throw new DecoderError(first.code, `model metadata refused: ${r.issues.map((i) => i.text).join('; ')}`, { key: first.key, problems: r.issues.length });
  }
  // Every nullable read above has succeeded when no issue was recorded.
  return {
    name,
    kind: kind as DecoderKind,
    parameterization: parameterization as Parameterization,
    horizon: horizon as number,
    actionDim: actionDim as number,
    latentDim: latentDim as number,
    stateDim: stateDim as number,
    defaultSteps: defaultSteps as number,
    trainSteps,
    betaSchedule,
    betaStart,
    betaEnd,
    fusedSampler,
    fusedSteps,
    actionMean,
    actionStd,
    stateMean,
    stateStd,
    latentSpace: latentSpace as string,
    supportsPrefix,
  };
}
