/**
 * Cuts a recording's streams into episodes and resamples them onto a fixed frame grid.
 *
 * - Episodes: a `start` record opens one at its host time, an `end` record closes it (frames at or
 *   before the end time belong to it). A `start` while one is open closes the open one first
 *   (outcome unknown: "no end record"); a recording that ends inside an episode closes it at the last
 *   STATE (outcome unknown: "recording ended"). An e-stop's `end` (outcome `estop`) is an ordinary end.
 * - Grid: frame k of an episode is at `start + k / fps`. Frames before both a STATE and a COMMAND
 *   exist are skipped, so frame 0 is the first grid time with both; frame indices are contiguous.
 * - observation.state at time t: joint positions then velocities, linearly interpolated between the
 *   last STATE at or before t and the first at or after it. No frame is made past the recording's
 *   last STATE (nothing is extrapolated): an episode whose STATE stops before its end record ends
 *   at its last STATE. Across a gap in STATE (link loss) the interpolation spans the gap, and the
 *   episode counts those frames in `gapFrames`.
 * - action at time t: the target of the last COMMAND at or before t (a zero-order hold, as the MCU
 *   holds it).
 * - camera image at time t: the last image at or before t (null before a camera's first image).
 *
 * Samples may arrive slightly out of order across topics; a frame at t is only made once a message
 * later than t + reorderUs has been seen (or at flush), so one that is late by less is still used.
 */
import type { EpisodeOutcome, EpisodeRecord } from '../../proto/recording/channels.js';
import { TimeTrack } from './time-track.js';

/** How far out of time order messages of different topics may arrive (µs). */
export const DEFAULT_REORDER_US = 20_000;

export interface StateSample { position: ArrayLike<number>; velocity: ArrayLike<number> }

export interface EpisodeCut {
  /** Index in the recording's `/spinal/episode` records. */
  recordedIndex: number;
  task: string;
  taskId: string;
  startUs: number;
  endUs: number;
  /** From the `end` record; null when the episode had none (see `note`). */
  outcome: EpisodeOutcome | null;
  note: string;
  marks: number;
  frames: number;
  /** Frames whose bracketing STATE samples were more than 50 ms apart. */
  gapFrames: number;
}

export interface Frame {
  frameIndex: number;
  /** Host time of the frame, µs. */
  tUs: number;
  /** Joint positions (rad) then velocities (rad/s). */
  state: Float32Array;
  /** Commanded joint targets (rad). */
  action: Float32Array;
  /** One per camera, in the framer's camera order: the image bytes, or null before the first. */
  images: (Uint8Array | null)[];
}

export interface FramerSink {
  frame(f: Frame): void;
  episodeEnd(e: EpisodeCut): void;
}

interface Open {
  cut: EpisodeCut;
  k: number;
}

const GAP_US = 50_000;

export class Framer {
  private readonly periodUs: number;
  private readonly states = new TimeTrack<StateSample>();
  private readonly commands = new TimeTrack<ArrayLike<number>>();
  private readonly images: TimeTrack<Uint8Array>[];
  private readonly events = new TimeTrack<EpisodeRecord>();
  private watermark = -Infinity;
  private lastStateUs = -Infinity;
  private lastFrameUs = -Infinity;
  private open: Open | null = null;
  /** Messages that arrived after a frame later than them was made (used as if on time when still relevant). */
  late = 0;
  /** `end` records with no episode open. */
  strayEnds = 0;

  constructor(
    readonly fps: number,
    readonly jointCount: number,
    readonly cameraCount: number,
    private readonly sink: FramerSink,
    private readonly reorderUs = DEFAULT_REORDER_US,
  ) {
    if (!(fps > 0 && fps <= 1000)) throw new RangeError(`fps ${fps} must be in (0, 1000]`);
    this.periodUs = 1e6 / fps;
    this.images = Array.from({ length: cameraCount }, () => new TimeTrack<Uint8Array>());
  }

  state(us: number, s: StateSample): void {
    if (us <= this.lastFrameUs) this.late++;
    this.states.push(us, s);
    if (us > this.lastStateUs) this.lastStateUs = us;
    this.observe(us);
  }

  command(us: number, target: ArrayLike<number>): void {
    if (us <= this.lastFrameUs) this.late++;
    this.commands.push(us, target);
    this.observe(us);
  }

  image(camera: number, us: number, bytes: Uint8Array): void {
    (this.images[camera] as TimeTrack<Uint8Array>).push(us, bytes);
    this.observe(us);
  }

  episode(r: EpisodeRecord): void {
    this.events.push(r.hostUs, r);
    this.observe(r.hostUs);
  }

  /** End of the recording: makes every remaining frame and closes an open episode. */
  flush(): void {
    this.watermark = Infinity;
    this.run(this.lastStateUs);
    if (this.open !== null) {
      // run() stops at the last STATE; an episode still open ends there.
      const cut = this.open.cut;
      if (cut.endUs === Infinity) {
        cut.endUs = Math.max(cut.startUs, this.lastStateUs);
        if (cut.note === '') cut.note = 'recording ended inside the episode (no end record)';
      } else cut.note = [cut.note, `STATE stops ${((cut.endUs - this.lastStateUs) / 1e6).toFixed(3)} s before the end record`].filter((x) => x !== '').join('; ');
      this.close();
    }
  }

  private observe(us: number): void {
    const wm = us - this.reorderUs;
    if (wm > this.watermark) {
      this.watermark = wm;
      this.run(Infinity);
    }
  }

  private run(dataEndUs: number): void {
    for (;;) {
      const evI = this.events.first();
      const evUs = evI >= 0 ? this.events.timeAt(evI) : Infinity;
      let tUs = Infinity;
      if (this.open !== null) {
        const o = this.open;
        tUs = o.cut.startUs + o.k * this.periodUs;
        if (tUs > o.cut.endUs) {
          this.close();
          continue;
        }
        if (tUs > dataEndUs && evUs === Infinity) tUs = Infinity;
      }
      const next = Math.min(evUs, tUs);
      if (next === Infinity || next > this.watermark) break;
      // A frame waits for a STATE at or after its time (through a link loss, until STATE resumes).
      if (evUs > tUs && tUs > this.lastStateUs) break;
      if (evUs <= tUs) {
        const r = this.events.itemAt(evI);
        this.events.shift();
        this.apply(r);
      } else {
        this.makeFrame(tUs);
        (this.open as Open).k++;
      }
    }
    if (this.open === null && Number.isFinite(this.watermark)) this.trim(this.watermark);
  }

  private apply(r: EpisodeRecord): void {
    if (r.kind === 'start') {
      if (this.open !== null) {
        this.open.cut.endUs = r.hostUs - 1e-3;
        this.open.cut.note = `no end record before episode ${r.index} started`;
        this.close();
      }
      this.open = {
        k: 0,
        cut: { recordedIndex: r.index, task: r.task, taskId: r.taskId, startUs: r.hostUs, endUs: Infinity, outcome: null, note: '', marks: 0, frames: 0, gapFrames: 0 },
      };
    } else if (r.kind === 'end') {
      if (this.open === null) {
        this.strayEnds++;
        return;
      }
      this.open.cut.endUs = r.hostUs;
      this.open.cut.outcome = r.outcome ?? null;
      if (r.outcome === undefined) this.open.cut.note = 'end record without an outcome';
      else if (r.note !== undefined) this.open.cut.note = r.note;
    } else if (this.open !== null) {
      this.open.cut.marks++;
    }
  }

  private close(): void {
    const o = this.open as Open;
    this.open = null;
    this.sink.episodeEnd(o.cut);
  }

  private makeFrame(tUs: number): void {
    const o = this.open as Open;
    const si = this.states.lastAtOrBefore(tUs);
    const ci = this.commands.lastAtOrBefore(tUs);
    if (si < 0 || ci < 0) return; // before the first STATE or COMMAND: no frame on this grid point
    const n = this.jointCount;
    const state = new Float32Array(2 * n);
    const a = this.states.itemAt(si);
    if (this.states.timeAt(si) < tUs && this.states.has(si + 1)) {
      const t0 = this.states.timeAt(si);
      const t1 = this.states.timeAt(si + 1);
      const b = this.states.itemAt(si + 1);
      const w = t1 > t0 ? (tUs - t0) / (t1 - t0) : 0;
      for (let j = 0; j < n; j++) {
        const p0 = a.position[j] as number;
        const v0 = a.velocity[j] as number;
        state[j] = p0 + ((b.position[j] as number) - p0) * w;
        state[n + j] = v0 + ((b.velocity[j] as number) - v0) * w;
      }
      if (t1 - t0 > GAP_US) o.cut.gapFrames++;
    } else {
      // A STATE exactly at t (the loop only makes a frame once one at or after t exists).
      for (let j = 0; j < n; j++) {
        state[j] = a.position[j] as number;
        state[n + j] = a.velocity[j] as number;
      }
    }
    const target = this.commands.itemAt(ci);
    const action = new Float32Array(n);
    for (let j = 0; j < n; j++) action[j] = target[j] as number;
    const images = this.images.map((t) => {
      const i = t.lastAtOrBefore(tUs);
      return i >= 0 ? t.itemAt(i) : null;
    });
    this.sink.frame({ frameIndex: o.cut.frames, tUs, state, action, images });
    o.cut.frames++;
    this.lastFrameUs = tUs;
    this.trim(tUs);
  }

  private trim(us: number): void {
    this.states.trimBefore(us);
    this.commands.trimBefore(us);
    for (const t of this.images) t.trimBefore(us);
  }
}
