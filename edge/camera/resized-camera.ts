/**
 * A camera whose frames are scaled to a configured size and JPEG-compressed again before the
 * cloud link sends them (policies take 224x224 or so; a pair of 720p frames is megabytes per
 * observation over a WAN). The work runs in a worker thread (resize-worker.mjs), one frame at a
 * time and only the newest: a frame that arrives while another is being resized waits, and is
 * replaced by a newer one. latest() returns the newest resized frame, with its source frame's
 * capture time and sequence number; null until the first is ready.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CameraFrame, CameraSource } from './camera-source.js';

export interface ResizeOptions {
  width: number;
  height: number;
  /** JPEG quality, 1..100. */
  quality: number;
}

/** resize-worker.mjs beside this module (sources), else under the package root (dist/ has no .mjs). */
function workerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'resize-worker.mjs'))) return join(here, 'resize-worker.mjs');
  for (let dir = here; resolve(dir, '..') !== dir; dir = resolve(dir, '..')) {
    const p = join(dir, 'edge', 'camera', 'resize-worker.mjs');
    if (existsSync(join(dir, 'package.json')) && existsSync(p)) return p;
  }
  throw new Error(`resize-worker.mjs not found beside ${here} nor under a package root above it`);
}

export class ResizedCamera implements CameraSource {
  /** Frames that failed to resize (the last reason in `lastError`). */
  failures = 0;
  lastError = '';
  private readonly worker: Worker;
  private busy: CameraFrame | null = null;
  private lastSeq = -1;
  private current: CameraFrame | null = null;

  constructor(private readonly source: CameraSource, private readonly o: ResizeOptions) {
    this.worker = new Worker(workerPath());
    this.worker.unref(); // never keeps the daemon alive
    this.worker.on('message', (m: { ok: true; data: Uint8Array; width: number; height: number } | { ok: false; message: string }) => {
      const f = this.busy;
      this.busy = null;
      if (f === null) return;
      if (m.ok) this.current = { ...f, encoding: 'jpeg', data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), width: m.width, height: m.height };
      else { this.failures++; this.lastError = `camera "${source.id}" frame ${f.frameSeq}: ${m.message}`; }
      this.pump();
    });
  }

  get id(): string {
    return this.source.id;
  }

  latest(): CameraFrame | null {
    this.pump();
    return this.current;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private pump(): void {
    if (this.busy !== null) return;
    const f = this.source.latest();
    if (f === null || f.frameSeq <= this.lastSeq) return;
    this.lastSeq = f.frameSeq;
    if (f.encoding !== 'jpeg') { this.failures++; this.lastError = `camera "${this.source.id}" sends ${f.encoding}, not JPEG`; return; }
    this.busy = f;
    this.worker.postMessage({ data: f.data, width: this.o.width, height: this.o.height, quality: this.o.quality });
  }
}
