/**
 * One camera's frames, already resampled to the dataset's fps, into one MP4 (H.264, yuv420p) by
 * ffmpeg reading JPEG or PNG images from a pipe. Frames before the camera's first image repeat that
 * first image (the recording has nothing earlier to show); a camera with no image at all makes no
 * file and the exporter drops its feature.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawnProgram } from '../../edge/process/tethered-child.js';
import { jpegDimensions } from '../../edge/camera/jpeg-markers.js';
import { DatasetError } from './dataset-error.js';

export interface VideoInfo {
  height: number;
  width: number;
  codec: string;
  pixFmt: string;
  frames: number;
}

function pngDimensions(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 24 || b[0] !== 0x89 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

export function imageDimensions(b: Uint8Array): { width: number; height: number; format: 'mjpeg' | 'png' } | null {
  const j = jpegDimensions(b);
  if (j !== null) return { ...j, format: 'mjpeg' };
  const p = pngDimensions(b);
  return p !== null ? { ...p, format: 'png' } : null;
}

export class VideoEncoder {
  private child: ChildProcess | null = null;
  private pending = 0;
  private frames = 0;
  private dims: { width: number; height: number } | null = null;
  private stderr = '';
  private failed: Error | null = null;
  private exited: Promise<unknown> | null = null;

  constructor(
    readonly camera: string,
    private readonly ffmpeg: string,
    private readonly fps: number,
    readonly outPath: string,
  ) {}

  /** Whether the caller should wait for `drained()` before writing more. */
  write(image: Uint8Array | null): boolean {
    if (this.failed !== null) throw this.failed;
    if (image === null) {
      if (this.child === null) this.pending++;
      else return this.send(this.lastImage as Uint8Array);
      return false;
    }
    if (this.child === null) this.start(image);
    this.lastImage = image;
    let full = false;
    while (this.pending > 0) {
      full = this.send(image) || full;
      this.pending--;
    }
    return this.send(image) || full;
  }

  private lastImage: Uint8Array | null = null;

  async drained(): Promise<void> {
    const stdin = this.child?.stdin;
    if (stdin && stdin.writableNeedDrain) await once(stdin, 'drain');
  }

  private start(first: Uint8Array): void {
    const d = imageDimensions(first);
    if (d === null) throw new DatasetError(`camera ${this.camera}: image is neither JPEG nor PNG (first bytes ${Buffer.from(first.subarray(0, 4)).toString('hex')})`);
    this.dims = d;
    mkdirSync(dirname(this.outPath), { recursive: true });
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'image2pipe', '-c:v', d.format, '-framerate', String(this.fps), '-i', 'pipe:0',
      // Even dimensions for yuv420p; a short GOP so a loader can seek to any episode cheaply.
      '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '2',
      '-pix_fmt', 'yuv420p', '-r', String(this.fps), '-f', 'mp4', '-y', this.outPath,
    ];
    const child = spawnProgram(this.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (c: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += c.toString();
    });
    child.stdin?.on('error', (e) => {
      this.failed ??= new DatasetError(`camera ${this.camera}: ffmpeg stopped taking frames (${e.message}) ${this.stderr.trim()}`);
    });
    this.exited = once(child, 'exit');
  }

  private send(image: Uint8Array): boolean {
    this.frames++;
    return !(this.child?.stdin?.write(image) ?? true);
  }

  /** Frames handed over so far (those waiting for a first image included). */
  get frameCount(): number {
    return this.frames + this.pending;
  }

  /** Closes the pipe and waits for ffmpeg; null when the camera never had an image. */
  async finish(): Promise<VideoInfo | null> {
    if (this.child === null) return null;
    this.child.stdin?.end();
    const [code] = (await this.exited) as [number | null, string | null];
    if (this.failed !== null) throw this.failed;
    if (code !== 0) throw new DatasetError(`camera ${this.camera}: ffmpeg exited with ${code}: ${this.stderr.trim().slice(0, 500)}`);
    const d = this.dims as { width: number; height: number };
    return { width: d.width - (d.width % 2), height: d.height - (d.height % 2), codec: 'h264', pixFmt: 'yuv420p', frames: this.frames };
  }

  /** Stops ffmpeg without waiting for a file (the export failed). */
  abort(): void {
    this.child?.kill('SIGKILL');
  }
}
