/**
 * A V4L2 camera read through a standard tool, so the edge links no native video code:
 *   ffmpeg   -f v4l2 -i /dev/videoN -f image2pipe -vcodec mjpeg -      (any pixel format)
 *   v4l2-ctl --stream-mmap --stream-to=-                               (devices that emit MJPEG)
 * The tool's stdout is split into JPEGs by MjpegSplitter; the newest frame wins. Absence is data,
 * not an exception: probeV4l2() and start() say which of tool and device is missing, in words an
 * operator can act on. The child is an injected command in tests (a `node -e` that writes JPEGs).
 *
 * Invariant: `child` is non-null iff the camera is running (started and not yet exited/stopped).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { spawnProgram } from '../process/tethered-child.js';
import type { CameraFrame, CameraSource } from './camera-source.js';
import { jpegDimensions } from './jpeg-markers.js';
import { MjpegSplitter, type MjpegSplitterCounters } from './mjpeg-splitter.js';

export type V4l2Tool = 'ffmpeg' | 'v4l2-ctl';

export type CameraProbe =
  | { ok: true; tool: V4l2Tool; toolPath: string; device: string }
  | { ok: false; reason: 'no-tool' | 'no-device'; message: string };

/** The absolute path of an executable on PATH, or null. */
export function findExecutable(name: string, pathEnv = process.env['PATH'] ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Whether `device` and a tool to read it exist (ffmpeg preferred unless `tool` names one). */
export function probeV4l2(device: string, tool?: V4l2Tool, pathEnv?: string): CameraProbe {
  const tools: V4l2Tool[] = tool ? [tool] : ['ffmpeg', 'v4l2-ctl'];
  let found: { tool: V4l2Tool; toolPath: string } | null = null;
  for (const t of tools) {
    const p = findExecutable(t, pathEnv);
    if (p !== null) { found = { tool: t, toolPath: p }; break; }
  }
  if (found === null) {
    return { ok: false, reason: 'no-tool', message: `no ${tools.join(' or ')} on PATH: install ffmpeg (or v4l-utils for an MJPEG camera) to read ${device}` };
  }
  if (!existsSync(device)) return { ok: false, reason: 'no-device', message: `camera device ${device} does not exist (is the camera plugged in, and is the user in the video group?)` };
  return { ok: true, ...found, device };
}

export interface CaptureFormat {
  width: number;
  height: number;
  fps: number;
}

/** The command line that streams MJPEG from `device` to stdout. */
export function v4l2Command(tool: V4l2Tool, toolPath: string, device: string, f: CaptureFormat): { file: string; args: string[] } {
  if (tool === 'ffmpeg') {
    return {
      file: toolPath,
      args: [
        '-hide_banner', '-loglevel', 'error', '-f', 'v4l2', '-framerate', String(f.fps), '-video_size', `${f.width}x${f.height}`,
        '-i', device, '-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '5', '-',
      ],
    };
  }
  return {
    file: toolPath,
    args: ['-d', device, `--set-fmt-video=width=${f.width},height=${f.height},pixelformat=MJPG`, `--set-parm=${f.fps}`, '--stream-mmap', '--stream-to=-'],
  };
}

export interface V4l2CameraOptions {
  id: string;
  /** Default /dev/video0. */
  device?: string;
  /** Default: ffmpeg when present, else v4l2-ctl. */
  tool?: V4l2Tool;
  /** Default 320 × 240 at 10 fps. */
  format?: Partial<CaptureFormat>;
  clock?: Clock;
  /** Largest JPEG accepted; default 1 MiB (the brain's limit). */
  maxFrameBytes?: number;
  /** Runs this instead of probing for a tool and a device (tests, or a user's own pipeline). */
  command?: { file: string; args: string[] };
}

export interface V4l2CameraExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the tool wrote to stderr: why it stopped, in its words. */
  stderrTail: string;
  /** True when stop() asked for it. */
  requested: boolean;
}

export interface V4l2CameraStatus {
  running: boolean;
  splitter: MjpegSplitterCounters;
  exit: V4l2CameraExit | null;
}

export type V4l2CameraEvents = {
  frame: [frame: CameraFrame];
  exit: [ev: V4l2CameraExit];
};

const STDERR_TAIL_BYTES = 2048;

export class V4l2Camera extends EventEmitter<V4l2CameraEvents> implements CameraSource {
  readonly id: string;
  private readonly opts: V4l2CameraOptions;
  private readonly clock: Clock;
  private readonly splitter: MjpegSplitter;
  private child: ChildProcess | null = null;
  private frame: CameraFrame | null = null;
  private seq = 0;
  private stderrTail = '';
  private stopping = false;
  private lastExit: V4l2CameraExit | null = null;

  constructor(opts: V4l2CameraOptions) {
    super();
    this.id = opts.id;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.splitter = new MjpegSplitter((jpegBytes) => this.onJpeg(jpegBytes), opts.maxFrameBytes ?? 1024 * 1024);
  }

  /** Starts the tool. Returns the probe: when not ok nothing was started and `message` says why. */
  start(): CameraProbe {
    if (this.child !== null) throw new Error(`camera ${this.id} is already running`);
    const device = this.opts.device ?? '/dev/video0';
    let cmd = this.opts.command;
    let probe: CameraProbe;
    if (cmd) {
      probe = { ok: true, tool: 'ffmpeg', toolPath: cmd.file, device };
    } else {
      probe = probeV4l2(device, this.opts.tool);
      if (!probe.ok) return probe;
      const f = this.opts.format ?? {};
      cmd = v4l2Command(probe.tool, probe.toolPath, device, { width: f.width ?? 320, height: f.height ?? 240, fps: f.fps ?? 10 });
    }
    this.stopping = false;
    this.splitter.reset();
    this.stderrTail = '';
    this.lastExit = null;
    // Under a parent-death signal: a capture tool must not outlive a killed daemon (it holds the device).
    const child = spawnProgram(cmd.file, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (e) => {
      this.stderrTail = (this.stderrTail + `\n${e.message}`).slice(-STDERR_TAIL_BYTES);
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.lastExit = { code, signal, stderrTail: this.stderrTail.trim(), requested: this.stopping };
      this.emit('exit', this.lastExit);
    });
    return probe;
  }

  /** Stops the tool (SIGTERM); the 'exit' event follows with requested: true. */
  stop(): void {
    if (this.child === null) return;
    this.stopping = true;
    this.child.kill('SIGTERM');
  }

  latest(): CameraFrame | null {
    return this.frame;
  }

  status(): V4l2CameraStatus {
    return { running: this.child !== null, splitter: { ...this.splitter.counters }, exit: this.lastExit };
  }

  private onJpeg(data: Buffer): void {
    const dims = jpegDimensions(data);
    this.frame = {
      cameraId: this.id, encoding: 'jpeg', data, width: dims?.width ?? 0, height: dims?.height ?? 0,
      captureTimeUs: this.clock.nowUs(), frameSeq: ++this.seq,
    };
    this.emit('frame', this.frame);
  }
}
