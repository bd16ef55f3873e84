/**
 * The decoder's work inside one thread, independent of how the model runs (ONNX or a pure-TS fake):
 * validate a request against the spec, normalise the state, draw the starting noise, impose the
 * prefix, run the sampler (or the fused model), refuse non-finite results, de-normalise.
 *
 * Invariants: every buffer is allocated in the constructor (no allocation per step; a request
 * allocates only when it names a step count not seen before, for its timestep table); `actions` is
 * reused by the next decode, so callers copy what they keep; nothing non-finite is ever returned.
 */
import type { DecoderSpec } from './contract.js';
import { DecoderError } from './decoder-error.js';
import type { ChunkRequest, PrefixConstraint } from './decode-request.js';
import type { Denoiser } from './denoiser.js';
import { sampleEpsilon } from './epsilon-samplers.js';
import { sampleFlow } from './flow-samplers.js';
import type { FusedModel } from './fused-model.js';
import { GaussianNoise } from './gaussian-noise.js';
import { alphasCumprod, ddimTimesteps, flowTimes } from './noise-schedule.js';
import { PrefixInpainter } from './prefix-inpainting.js';
import {
  allocWorkspace, evaluationsFor, SAMPLER_PARAMETERIZATION, type SamplerName, type SamplerWorkspace,
  type SamplingOptions,
} from './sampler-types.js';

export type DecoderModel = { kind: 'denoiser'; denoiser: Denoiser } | { kind: 'fused'; fused: FusedModel };

export type CoreResult =
  | { status: 'done'; actions: Float32Array; sampler: SamplerName; steps: number; evaluations: number; modelMs: number }
  | { status: 'stopped'; evaluations: number };

const MAX_STEPS = 1000;
const DEFAULT_SEED = 0x5eed;

function bad(message: string, detail: Record<string, string | number | boolean> = {}): DecoderError {
  return new DecoderError('bad-request', message, detail);
}

export class DecoderCore {
  readonly batch: number;
  /** Robot units [B, H, A]; overwritten by every decode. */
  readonly actions: Float32Array;
  private readonly ws: SamplerWorkspace;
  private readonly inpainter: PrefixInpainter;
  private readonly noise = new GaussianNoise(DEFAULT_SEED);
  private readonly prefixScratch: Float32Array;
  private readonly abar: Float64Array | null;
  private readonly timesteps = new Map<number, Int32Array>();
  private readonly times = new Map<number, Float64Array>();
  private modelMs = 0;
  private readonly timedDenoiser: Denoiser | null;

  constructor(readonly spec: DecoderSpec, private readonly model: DecoderModel) {
    const io = model.kind === 'denoiser' ? model.denoiser.io : model.fused.io;
    this.batch = io.batch;
    const n = io.batch * spec.horizon * spec.actionDim;
    this.actions = new Float32Array(n);
    this.ws = allocWorkspace(n);
    this.inpainter = new PrefixInpainter(spec.horizon, spec.actionDim);
    this.prefixScratch = new Float32Array(spec.horizon * spec.actionDim);
    this.abar = spec.trainSteps !== null && spec.betaSchedule !== null
      ? alphasCumprod({ schedule: spec.betaSchedule, trainSteps: spec.trainSteps, betaStart: spec.betaStart ?? 0, betaEnd: spec.betaEnd ?? 0 })
      : null;
    if (model.kind === 'denoiser') {
      const inner = model.denoiser;
      this.timedDenoiser = {
        parameterization: inner.parameterization,
        io: inner.io,
        evaluate: async (): Promise<void> => {
          const t0 = performance.now();
          await inner.evaluate();
          this.modelMs += performance.now() - t0;
        },
      };
    } else {
      this.timedDenoiser = null;
    }
  }

  /** The sampling options a request resolves to; throws 'bad-request' when they do not fit. */
  resolveOptions(req: Pick<ChunkRequest, 'sampler' | 'steps' | 'eta'>): SamplingOptions {
    const s = this.spec;
    if (s.kind === 'fused') {
      const sampler = (s.fusedSampler ?? 'ddim') as SamplerName;
      const steps = s.fusedSteps ?? 1;
      if ((req.sampler !== undefined && req.sampler !== sampler) || (req.steps !== undefined && req.steps !== steps)) {
        throw bad(`fused model ${JSON.stringify(s.name)} runs ${sampler} with ${steps} steps baked in; asked for ${req.sampler ?? sampler} with ${req.steps ?? steps} steps`);
      }
      return { sampler, steps, eta: 0 };
    }
    const sampler = req.sampler ?? (s.parameterization === 'epsilon' ? 'ddim' : 'euler');
    if (SAMPLER_PARAMETERIZATION[sampler] !== s.parameterization) {
      throw bad(`sampler ${sampler} integrates ${SAMPLER_PARAMETERIZATION[sampler]} models; ${JSON.stringify(s.name)} is a ${s.parameterization} model`, { sampler });
    }
    const steps = req.steps ?? s.defaultSteps;
    const maxSteps = s.trainSteps ?? MAX_STEPS;
    if (!Number.isInteger(steps) || steps < 1 || steps > maxSteps) throw bad(`steps ${steps} is not an integer in 1..${maxSteps}`, { steps });
    const eta = req.eta ?? 0;
    if (!(eta >= 0 && eta <= 1)) throw bad(`eta ${eta} is not in [0, 1]`, { eta });
    return { sampler, steps, eta };
  }

  /** Runs one request. `shouldStop` is polled after every model evaluation. */
  async decode(req: ChunkRequest, shouldStop: () => boolean): Promise<CoreResult> {
    const options = this.resolveOptions(req);
    const s = this.spec;
    const io = this.model.kind === 'denoiser' ? this.model.denoiser.io : this.model.fused.io;
    this.fillBatched('latent', req.latent, s.latentDim, io.latent, null, null);
    this.fillBatched('state', req.state, s.stateDim, io.state, s.stateMean, s.stateStd);
    const start = this.model.kind === 'denoiser' ? this.model.denoiser.io.x : this.model.fused.io.noise;
    if (req.noise !== undefined) {
      if (req.noise.length !== start.length) throw bad(`noise has ${req.noise.length} values, expected ${start.length} (B=${this.batch} x H=${s.horizon} x A=${s.actionDim})`);
      start.set(req.noise);
      if (req.seed !== undefined) this.noise.reseed(req.seed);
    } else {
      if (req.seed !== undefined) this.noise.reseed(req.seed);
      this.noise.fill(start);
    }
    this.ws.noise.set(start);
    this.setPrefix(req.prefix);
    if (s.supportsPrefix) this.inpainter.fillModelInputs(io);
    this.modelMs = 0;

    let evaluations: number;
    let normalised: Float32Array;
    if (this.model.kind === 'fused') {
      const t0 = performance.now();
      await this.model.fused.run();
      this.modelMs = performance.now() - t0;
      evaluations = 1;
      if (shouldStop()) return { status: 'stopped', evaluations };
      normalised = this.model.fused.io.actions;
    } else {
      const den = this.timedDenoiser as Denoiser;
      const run = { options, workspace: this.ws, inpainter: this.inpainter, stepNoise: this.noise, shouldStop };
      const r = options.sampler === 'ddpm' || options.sampler === 'ddim'
        ? await sampleEpsilon(den, this.abar as Float64Array, this.timestepsFor(options.steps), run)
        : await sampleFlow(den, this.timesFor(options.steps), run);
      if (r.status === 'stopped') return r;
      evaluations = r.evaluations;
      normalised = den.io.x;
    }
    this.denormalise(normalised, req.prefix);
    return { status: 'done', actions: this.actions, sampler: options.sampler, steps: options.steps, evaluations, modelMs: this.modelMs };
  }

  /** Model evaluations a request will make (for progress and benchmarks). */
  evaluationsFor(options: SamplingOptions): number {
    return this.spec.kind === 'fused' ? 1 : evaluationsFor(options.sampler, options.steps);
  }

  private timestepsFor(steps: number): Int32Array {
    let ts = this.timesteps.get(steps);
    if (ts === undefined) this.timesteps.set(steps, (ts = ddimTimesteps(this.spec.trainSteps ?? steps, steps)));
    return ts;
  }

  private timesFor(steps: number): Float64Array {
    let ts = this.times.get(steps);
    if (ts === undefined) this.times.set(steps, (ts = flowTimes(steps)));
    return ts;
  }

  /** Copies [D] (broadcast) or [B, D] into `dst`, normalising with mean/std when given. */
  private fillBatched(what: string, src: Float32Array, dim: number, dst: Float32Array, mean: Float32Array | null, std: Float32Array | null): void {
    const B = this.batch;
    if (src.length !== dim && src.length !== B * dim) throw bad(`${what} has ${src.length} values, expected ${dim}${B > 1 ? ` or ${B * dim}` : ''}`, { what, length: src.length });
    for (let i = 0; i < dst.length; i++) {
      const d = i % dim;
      const v = src[src.length === dim ? d : i] as number;
      if (!Number.isFinite(v)) throw bad(`${what}[${i % src.length}] is ${v}, not finite`, { what });
      dst[i] = mean === null || std === null ? v : (v - (mean[d] as number)) / (std[d] as number);
    }
  }

  private setPrefix(p: PrefixConstraint | undefined): void {
    if (p === undefined) {
      this.inpainter.clear();
      return;
    }
    const s = this.spec;
    const A = s.actionDim;
    if (s.kind === 'fused' && !s.supportsPrefix) {
      throw new DecoderError('prefix-unsupported', `fused model ${JSON.stringify(s.name)} does not take a prefix (spinal.supports_prefix is false) and cannot be inpainted from outside`);
    }
    const m = p.actions.length / A;
    if (!Number.isInteger(m) || m < 1 || m > s.horizon) throw bad(`prefix has ${p.actions.length} values: not 1..${s.horizon} rows of ${A}`);
    if (!Number.isInteger(p.committed) || p.committed < 0 || p.committed > m) throw bad(`prefix.committed ${p.committed} is not in 0..${m}`);
    const soft = p.softWeight ?? 0;
    if (!(soft >= 0 && soft <= 1)) throw bad(`prefix.softWeight ${soft} is not in [0, 1]`);
    const norm = this.prefixScratch.subarray(0, m * A);
    for (let i = 0; i < m * A; i++) {
      const v = p.actions[i] as number;
      if (!Number.isFinite(v)) throw bad(`prefix.actions[${i}] is ${v}, not finite`);
      norm[i] = (v - (s.actionMean[i % A] as number)) / (s.actionStd[i % A] as number);
    }
    this.inpainter.set(norm, p.committed, soft);
  }

  /** actions = x * std + mean; refuses non-finite values; committed rows become the prefix exactly. */
  private denormalise(x: Float32Array, prefix: PrefixConstraint | undefined): void {
    const s = this.spec;
    const A = s.actionDim;
    const HA = s.horizon * A;
    const out = this.actions;
    for (let i = 0; i < x.length; i++) {
      const a = i % A;
      const v = (x[i] as number) * (s.actionStd[a] as number) + (s.actionMean[a] as number);
      out[i] = v;
      if (!Number.isFinite(out[i] as number)) {
        const b = Math.floor(i / HA);
        const row = Math.floor((i % HA) / A);
        throw new DecoderError('non-finite', `model ${JSON.stringify(s.name)} produced a non-finite action (${String(x[i])}) at batch ${b}, row ${row}, dim ${a}; nothing is returned`, { batch: b, row, dim: a });
      }
    }
    if (prefix === undefined || prefix.committed === 0) return;
    const k = prefix.committed * A;
    for (let b = 0; b < this.batch; b++) for (let i = 0; i < k; i++) out[b * HA + i] = prefix.actions[i] as number;
  }
}
