/** What a caller asks of the decoder, and what it gets back: requests and outcomes as data. */
import type { DecoderErrorData } from './decoder-error.js';
import type { SamplerName } from './sampler-types.js';

/** Actions committed to the robot while the new chunk was being computed (real-time chunking). */
export interface PrefixConstraint {
  /** Robot units, row-major [m, A], 1 <= m <= H: the old chunk from the row the new chunk starts at. */
  actions: Float32Array;
  /** Rows [0, committed) are imposed exactly; 0 <= committed <= m. */
  committed: number;
  /** Rows [committed, m) pull the new chunk towards the old one with a weight ramping down from
   * this value in [0, 1] (default 0: those rows are ignored). */
  softWeight?: number;
}

export interface ChunkRequest {
  /** [Dz] (broadcast over the batch) or [B, Dz]. */
  latent: Float32Array;
  /** Robot units (the runtime normalises): [Ds] or [B, Ds]. */
  state: Float32Array;
  /** Seed of the starting noise (and of DDPM's step noise). Default: the decoder's own stream. */
  seed?: number;
  /** The starting noise itself, [B, H, A], normalised space; overrides `seed` for the start. */
  noise?: Float32Array;
  prefix?: PrefixConstraint;
  /** Default: ddim for epsilon models, euler for velocity models. Fused models: their own. */
  sampler?: SamplerName;
  /** Default: the model's spinal.default_steps. */
  steps?: number;
  /** DDIM only, [0, 1], default 0. */
  eta?: number;
}

export interface DecodeTiming {
  /** Wall time of the whole decode inside the executing thread, ms. */
  decodeMs: number;
  /** Sum of the model calls alone, ms. */
  modelMs: number;
  evaluations: number;
}

export interface DecodeDone {
  status: 'done';
  id: number;
  /** Robot units, [B, H, A]; committed prefix rows equal the given prefix exactly. */
  actions: Float32Array;
  sampler: SamplerName;
  steps: number;
  timing: DecodeTiming;
}

export type CancelReason = 'superseded' | 'cancelled' | 'closed';

export interface DecodeCancelled {
  status: 'cancelled';
  id: number;
  reason: CancelReason;
  /** Model evaluations made before the run stopped (0 when it never started). */
  evaluations: number;
}

export interface DecodeFailed {
  status: 'failed';
  id: number;
  error: DecoderErrorData;
}

export type DecodeOutcome = DecodeDone | DecodeCancelled | DecodeFailed;
