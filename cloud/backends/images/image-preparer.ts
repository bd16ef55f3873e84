/**
 * The image half of a backend's per-request preparation (BrainBackend.prepare): picks the frame
 * that feeds the model's "images" input and decodes it in the decoder pool, off the event loop and
 * within its limits. A refused frame is refused for that robot only, naming the value.
 *
 * Each robot also has a decoding budget (a token bucket of worker time): `budgetMsPerS` of decoder
 * time per second, up to `burstMs` saved. A frame is decoded only while the robot's bucket is not
 * empty, and what its decode took (or its deadline, when stopped) is charged after. So a robot
 * that sends frames that are slow to decode, honest or not, gets at most its share of the decoder
 * threads, and the rest of the fleet keeps the remaining time.
 *
 * A robot also has at most one frame in the decoder at a time: a frame that arrives while its
 * previous one is still decoding (the brain gave up waiting on that observation, or the robot sends
 * faster than it is answered) is refused at once. Without this a robot with saved-up budget held
 * both decoder workers with two slow frames, and the honest fleet's frames timed out waiting
 * (measured in the brain-hostile-images bench).
 */
import type { CameraFrame } from '../../../proto/brain/index.js';
import type { InferRequest, InferResult, PrepareResult } from '../backend.js';
import { DEFAULT_DECODER_POOL, DEFAULT_IMAGE_LIMITS, ImageDecoderPool, type DecoderPoolOptions, type DecoderStats, type ImageSpec } from './image-decoder-pool.js';

/** Any of the pool's options; unset (or undefined) ones take the defaults. */
export interface DecodeBudget {
  /** Decoder time each robot earns per second (ms). */
  budgetMsPerS: number;
  /** Most decoder time a robot can save up (ms); a new robot starts with this much. */
  burstMs: number;
}

/** 10 % of one decoder thread per robot, with room for one decode up to the default deadline. */
export const DEFAULT_DECODE_BUDGET: DecodeBudget = { budgetMsPerS: 100, burstMs: 1000 };

export type ImageDecodingOptions = { [K in keyof (DecoderPoolOptions & DecodeBudget)]?: (DecoderPoolOptions & DecodeBudget)[K] | undefined };

interface Bucket {
  /** Decoder time left (ms); negative after a decode that took more than was left. */
  ms: number;
  at: number;
}

export class ImagePreparer {
  private readonly pool: ImageDecoderPool;
  private readonly budget: DecodeBudget;
  private readonly now: () => number;
  /** Per session; entries leave with forget() (the session ended), so at most one per session. */
  private readonly buckets = new Map<string, Bucket>();
  private overBudget = 0;
  /** Sessions with a frame in the decoder now. */
  private readonly decoding = new Set<string>();
  private robotBusy = 0;

  constructor(private readonly spec: ImageSpec, private readonly cameraId: string | undefined, o: ImageDecodingOptions = {}) {
    const set = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<DecoderPoolOptions & DecodeBudget>;
    const { budgetMsPerS, burstMs, ...pool } = set;
    this.budget = { budgetMsPerS: budgetMsPerS ?? DEFAULT_DECODE_BUDGET.budgetMsPerS, burstMs: burstMs ?? DEFAULT_DECODE_BUDGET.burstMs };
    if (!(this.budget.budgetMsPerS > 0) || !(this.budget.burstMs > 0)) throw new RangeError(`image decoding budget ${this.budget.budgetMsPerS} ms/s, burst ${this.budget.burstMs} ms must be positive`);
    this.now = pool.now ?? (() => performance.now());
    this.pool = new ImageDecoderPool({ ...DEFAULT_IMAGE_LIMITS, ...DEFAULT_DECODER_POOL, ...pool });
  }

  /** The session ended: drop its budget. */
  forget(sessionId: string): void {
    this.buckets.delete(sessionId);
  }

  /** The robot's bucket, refilled up to now. */
  private bucket(sessionId: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(sessionId);
    if (b === undefined) {
      b = { ms: this.budget.burstMs, at: now };
      this.buckets.set(sessionId, b);
    }
    b.ms = Math.min(this.budget.burstMs, b.ms + ((now - b.at) / 1000) * this.budget.budgetMsPerS);
    b.at = now;
    return b;
  }

  /** The frame that feeds "images": the configured camera's, else the first; undefined: none. */
  frameOf(r: InferRequest): CameraFrame | undefined {
    const frames = r.observation.frames;
    return this.cameraId !== undefined ? frames.find((f) => f.cameraId === this.cameraId) : frames[0];
  }

  async prepare(r: InferRequest): Promise<PrepareResult> {
    if (r.prepared !== undefined) return { ok: true, request: r };
    const frame = this.frameOf(r);
    if (frame === undefined) return { ok: true, request: { ...r, prepared: { image: null } } }; // no frame: zeros, documented
    const sessionId = r.session.sessionId;
    const before = this.bucket(sessionId);
    if (before.ms <= 0) {
      this.overBudget++;
      const waitMs = Math.ceil((-before.ms / this.budget.budgetMsPerS) * 1000);
      return {
        ok: false, code: 'BAD_OBSERVATION', reason: 'image-budget',
        message: `camera "${frame.cameraId}": this robot's frames used more decoder time than its budget of ${this.budget.budgetMsPerS} ms per second (${Math.round(-before.ms)} ms over); frame not decoded, next in ${waitMs} ms; send smaller frames`,
      };
    }
    if (this.decoding.has(sessionId)) {
      this.robotBusy++;
      return {
        ok: false, code: 'OVERLOADED', reason: 'decoder-busy',
        message: `camera "${frame.cameraId}": this robot's previous frame is still being decoded (one frame per robot at a time); frame dropped`,
      };
    }
    this.decoding.add(sessionId);
    let out;
    try {
      out = await this.pool.decode(frame, this.spec);
    } finally {
      this.decoding.delete(sessionId);
    }
    if (out.workMs > 0) this.bucket(sessionId).ms -= out.workMs;
    if (!out.ok) {
      const busy = out.reason === 'decoder-busy' || out.reason === 'decoder-closed';
      return { ok: false, code: busy ? 'OVERLOADED' : 'BAD_OBSERVATION', reason: out.reason, message: out.message };
    }
    return { ok: true, request: { ...r, prepared: { image: out.nchw } } };
  }

  stats(): DecoderStats {
    const s = this.pool.stats();
    return { ...s, refused: { ...s.refused, 'image-budget': this.overBudget, 'decoder-busy': s.refused['decoder-busy'] + this.robotBusy } };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Prepares the requests of a batch that arrive unprepared (a caller that skipped prepare()), all
 * at once in the pool; `refused[i]` is the answer for a request that cannot be used, else null.
 * Without a preparer (the model takes no images) the batch passes unchanged.
 */
export async function prepareBatch(p: ImagePreparer | null, batch: readonly InferRequest[]): Promise<{ batch: InferRequest[]; refused: (InferResult | null)[] }> {
  if (p === null) return { batch: [...batch], refused: batch.map(() => null) };
  const results = await Promise.all(batch.map((r) => p.prepare(r)));
  return {
    batch: results.map((x, i) => (x.ok ? x.request : { ...(batch[i] as InferRequest), prepared: { image: null } })),
    refused: results.map((x): InferResult | null => (x.ok ? null : { ok: false, code: x.code, message: x.message })),
  };
}
