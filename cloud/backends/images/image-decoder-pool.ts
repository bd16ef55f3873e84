/**
 * JPEG decoding in a pool of worker threads, with limits on every frame:
 *   - bytes and pixels are checked from the header (jpeg-header.ts) before any decoding, so a
 *     40 MP frame or a "bomb" (a small file declaring a huge frame) costs the brain one marker walk;
 *   - a file without its end-of-image marker (truncated) is refused the same way;
 *   - each decode has a deadline: past it, its worker is terminated (the only way to stop a
 *     synchronous decode) and replaced, and the frame is refused naming the deadline;
 *   - at most `maxQueue` frames wait for a worker, and a frame that waited longer than
 *     `queueWaitMs` is dropped before it starts; both are refused as "decoder busy" and counted.
 *
 * Invariants: every decode() settles exactly once; no decoding runs on the calling thread; a
 * worker holds at most one frame. The brain submits at most one frame per robot at a time (one
 * observation in flight per session), so one robot's hostile frames occupy at most one worker and
 * with two or more workers the other robots' frames keep being decoded.
 */
import { Worker } from 'node:worker_threads';
import type { CameraFrame } from '../../../proto/brain/index.js';
import { workerScriptPath } from '../worker-script.js';
import { readJpegHeader } from './jpeg-header.js';

export interface ImageSpec {
  height: number;
  width: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export interface ImageLimits {
  /** Largest frame accepted, in pixels (width x height from the header). */
  maxPixels: number;
  /** Largest JPEG accepted, in bytes. */
  maxBytes: number;
  /** Longest one decode may run on its worker (ms) before the worker is terminated. */
  decodeTimeoutMs: number;
}

export interface DecoderPoolOptions extends ImageLimits {
  workers: number;
  /** Most frames waiting for a worker; more are refused at once. */
  maxQueue: number;
  /** Longest a frame may wait for a worker (ms); past it, it is dropped before it starts. */
  queueWaitMs: number;
  /** Milliseconds on a monotonic clock (tests inject one). */
  now?: () => number;
  /** The worker script (tests substitute one); default decode-worker.mjs. */
  workerFile?: string;
}

/** 1920 x 1080: a policy's input is a few hundred pixels wide; a larger frame is resized away. */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxPixels: 1920 * 1080, maxBytes: 1024 * 1024, decodeTimeoutMs: 1000 };
export const DEFAULT_DECODER_POOL: Omit<DecoderPoolOptions, keyof ImageLimits> = { workers: 2, maxQueue: 256, queueWaitMs: 1000 };

export type ImageRefusal =
  | 'image-encoding' | 'image-bytes' | 'image-pixels' | 'image-truncated' | 'image-undecodable' | 'image-deadline'
  | 'decoder-busy' | 'decoder-closed' | 'image-budget';

/** `workMs`: how long a worker spent on the frame (0 when refused before decoding). */
export type DecodeOutcome = { ok: true; nchw: Float32Array; workMs: number } | { ok: false; reason: ImageRefusal; message: string; workMs: number };

export interface DecoderStats {
  decoded: number;
  refused: Record<ImageRefusal, number>;
  /** Workers terminated at a deadline (each replaced). */
  terminated: number;
  queued: number;
  busyWorkers: number;
}

interface Job {
  frame: CameraFrame;
  spec: ImageSpec;
  /** Header dims, for messages. */
  size: string;
  pixels: number;
  enqueuedAt: number;
  /** When a worker took it (the pool's clock); NaN while waiting. */
  startedAt: number;
  settle: (o: DecodeOutcome) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
}

const REFUSALS: readonly ImageRefusal[] = ['image-encoding', 'image-bytes', 'image-pixels', 'image-truncated', 'image-undecodable', 'image-deadline', 'decoder-busy', 'decoder-closed', 'image-budget'];

type FromWorker = { type: 'ready' } | { id: number; ok: true; nchw: Float32Array } | { id: number; ok: false; message: string };

export class ImageDecoderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly now: () => number;
  private readonly file: string;
  private nextId = 1;
  private closed = false;
  /** Why the pool cannot decode at all (a worker died before it was ready); null while healthy. */
  private broken: string | null = null;
  private readonly counts: Omit<DecoderStats, 'queued' | 'busyWorkers'> = {
    decoded: 0, terminated: 0, refused: Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<ImageRefusal, number>,
  };

  constructor(private readonly o: DecoderPoolOptions) {
    if (!(o.workers >= 1) || !(o.maxQueue >= 0) || !(o.decodeTimeoutMs > 0) || !(o.maxPixels > 0) || !(o.maxBytes > 0)) {
      throw new RangeError(`image decoder pool: workers ${o.workers}, maxQueue ${o.maxQueue}, decodeTimeoutMs ${o.decodeTimeoutMs}, maxPixels ${o.maxPixels}, maxBytes ${o.maxBytes} must be positive`);
    }
    this.now = o.now ?? (() => performance.now());
    this.file = o.workerFile ?? workerScriptPath(import.meta.url, 'cloud/backends/images', 'decode-worker.mjs');
    for (let i = 0; i < o.workers; i++) this.slots.push(this.spawn());
  }

  stats(): DecoderStats {
    return { ...this.counts, refused: { ...this.counts.refused }, queued: this.queue.length, busyWorkers: this.slots.filter((s) => s.job !== null).length };
  }

  /** Decodes `frame` to spec's NCHW plane, or says why not (naming the camera and the value). */
  decode(frame: CameraFrame, spec: ImageSpec): Promise<DecodeOutcome> {
    const cam = `camera "${frame.cameraId}"`;
    const refuse = (reason: ImageRefusal, message: string): Promise<DecodeOutcome> => {
      this.counts.refused[reason]++;
      return Promise.resolve({ ok: false, reason, message: `${cam}: ${message}`, workMs: 0 });
    };
    if (this.closed) return refuse('decoder-closed', 'the image decoder is closed');
    if (this.broken !== null) return refuse('decoder-closed', `the image decoder cannot run: ${this.broken}`);
    if (frame.encoding !== 'jpeg') return refuse('image-encoding', `encoding "${frame.encoding}" is not decoded by this backend (send jpeg)`);
    if (frame.data.length > this.o.maxBytes) return refuse('image-bytes', `JPEG of ${frame.data.length} bytes exceeds the limit of ${this.o.maxBytes} bytes`);
    const h = readJpegHeader(frame.data);
    if (!h.ok) return refuse(h.reason === 'truncated' ? 'image-truncated' : 'image-undecodable', `not a decodable JPEG: ${h.message}`);
    const { width, height } = h.header;
    const pixels = width * height;
    const size = `${width} x ${height}`;
    if (pixels > this.o.maxPixels) {
      return refuse('image-pixels', `JPEG of ${size} = ${mp(pixels)} MP exceeds the limit of ${mp(this.o.maxPixels)} MP (${this.o.maxPixels} pixels)`);
    }
    if (this.queue.length >= this.o.maxQueue && this.idleSlot() === null) {
      return refuse('decoder-busy', `the image decoder is busy (${this.queue.length} frames waiting, the limit); frame dropped`);
    }
    return new Promise((settle) => {
      this.queue.push({ frame, spec, size, pixels, enqueuedAt: this.now(), startedAt: Number.NaN, settle });
      this.dispatch();
    });
  }

  /** Terminates the workers; waiting and running decodes are refused ('decoder-closed'). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.queue.splice(0)) this.finish(j, { ok: false, reason: 'decoder-closed', message: `camera "${j.frame.cameraId}": the image decoder is closed`, workMs: 0 });
    await Promise.all(this.slots.map(async (s) => {
      if (s.timer !== null) clearTimeout(s.timer);
      const j = s.job;
      s.job = null;
      if (j !== null) this.finish(j, { ok: false, reason: 'decoder-closed', message: `camera "${j.frame.cameraId}": the image decoder is closed`, workMs: 0 });
      await s.worker.terminate();
    }));
  }

  private idleSlot(): Slot | null {
    return this.slots.find((s) => s.ready && s.job === null) ?? null;
  }

  private dispatch(): void {
    for (let slot = this.idleSlot(); slot !== null && this.queue.length > 0; slot = this.idleSlot()) {
      const job = this.queue.shift() as Job;
      const waited = this.now() - job.enqueuedAt;
      if (waited > this.o.queueWaitMs) {
        this.finish(job, { ok: false, reason: 'decoder-busy', message: `camera "${job.frame.cameraId}": waited ${Math.round(waited)} ms for the image decoder (limit ${this.o.queueWaitMs} ms); frame dropped before decoding`, workMs: 0 });
        continue;
      }
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    slot.jobId = this.nextId++;
    job.startedAt = this.now();
    // jpeg-js's own accounting: the RGBA output plus its per-component buffers, with headroom.
    const maxMemoryMB = Math.max(16, Math.ceil((job.pixels * 12) / 1e6));
    slot.worker.postMessage({ id: slot.jobId, data: job.frame.data, spec: { height: job.spec.height, width: job.spec.width, mean: [...job.spec.mean], std: [...job.spec.std] }, maxPixels: this.o.maxPixels, maxMemoryMB });
    slot.timer = setTimeout(() => this.expire(slot), this.o.decodeTimeoutMs);
  }

  /** The decode on `slot` passed its deadline: refuse the frame and replace the worker. */
  private expire(slot: Slot): void {
    const job = slot.job;
    slot.timer = null;
    if (job === null) return;
    slot.job = null;
    this.counts.terminated++;
    this.finish(job, { ok: false, reason: 'image-deadline', message: `camera "${job.frame.cameraId}": decoding the ${job.size} JPEG took longer than ${this.o.decodeTimeoutMs} ms; stopped`, workMs: this.o.decodeTimeoutMs });
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const old = slot.worker;
    old.removeAllListeners();
    old.on('error', () => undefined);
    void old.terminate();
    const i = this.slots.indexOf(slot);
    if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
    this.dispatch();
  }

  private spawn(): Slot {
    const worker = new Worker(this.file);
    const slot: Slot = { worker, ready: false, job: null, jobId: 0, timer: null };
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      if ('type' in m) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (job === null || m.id !== slot.jobId) return; // a late answer after its deadline
      if (slot.timer !== null) clearTimeout(slot.timer);
      slot.timer = null;
      slot.job = null;
      const workMs = this.now() - job.startedAt;
      if (m.ok) this.finish(job, { ok: true, nchw: m.nchw, workMs });
      else this.finish(job, { ok: false, reason: 'image-undecodable', message: `camera "${job.frame.cameraId}": not a decodable JPEG (${job.size}): ${m.message}`, workMs });
      this.dispatch();
    });
    const failed = (why: string): void => {
      if (this.closed) return;
      if (slot.timer !== null) clearTimeout(slot.timer);
      slot.timer = null;
      const job = slot.job;
      slot.job = null;
      if (job !== null) this.finish(job, { ok: false, reason: 'image-undecodable', message: `camera "${job.frame.cameraId}": the decoder failed on the ${job.size} JPEG: ${why}`, workMs: this.now() - job.startedAt });
      if (!slot.ready) {
        // It never loaded: another would fail the same way. Stop, and refuse every frame saying why.
        this.broken = `a decoder thread failed to start: ${why}`;
        for (const j of this.queue.splice(0)) this.finish(j, { ok: false, reason: 'decoder-closed', message: `camera "${j.frame.cameraId}": the image decoder cannot run: ${this.broken}`, workMs: 0 });
        return;
      }
      this.replace(slot);
    };
    worker.on('error', (e) => failed(e.message));
    worker.on('exit', (code) => failed(`its thread exited (code ${code})`));
    return slot;
  }

  private finish(job: Job, o: DecodeOutcome): void {
    if (o.ok) this.counts.decoded++;
    else this.counts.refused[o.reason]++;
    job.settle(o);
  }
}

function mp(pixels: number): string {
  return (pixels / 1e6).toFixed(1);
}
