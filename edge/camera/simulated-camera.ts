/**
 * A camera that films the robot's own state: each frame is a small drawing of the joint positions
 * (joint-sketch.ts), JPEG-encoded with jpeg-js. Frames are rendered on demand — latest() renders a
 * new one when the last is older than the frame period — so nothing runs while nobody asks, and
 * the RGBA canvas and the state snapshot are reused (the JPEG bytes are the only allocation, and a
 * frame must own them).
 */
import jpeg from 'jpeg-js';
import type { RobotProfile } from '../../hardware/index.js';
import { systemClock, type Clock } from '../clock.js';
import { newObservation, type Observation } from '../estimation/index.js';
import type { CameraFrame, CameraSource } from './camera-source.js';
import { drawJointSketch, type SketchLimits } from './joint-sketch.js';

/** The robot's state; an estimation ObservationBuffer fits. */
export interface JointStateReader {
  readonly jointCount: number;
  read(out: Observation): boolean;
}

export interface SimulatedCameraOptions {
  /** Default "sim". */
  id?: string;
  state: JointStateReader;
  profile: RobotProfile;
  clock?: Clock;
  /** Frames per second at most; default 10. */
  rateHz?: number;
  /** Default 160 × 120. */
  width?: number;
  height?: number;
  /** JPEG quality 1..100; default 70. */
  quality?: number;
}

export class SimulatedCamera implements CameraSource {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  private readonly state: JointStateReader;
  private readonly clock: Clock;
  private readonly periodUs: number;
  private readonly quality: number;
  private readonly limits: SketchLimits;
  private readonly rgba: Uint8Array;
  private readonly snapshot: Observation;
  private frame: CameraFrame | null = null;
  private seq = 0;

  constructor(opts: SimulatedCameraOptions) {
    this.id = opts.id ?? 'sim';
    this.width = opts.width ?? 160;
    this.height = opts.height ?? 120;
    const rate = opts.rateHz ?? 10;
    if (!(rate > 0 && rate <= 60)) throw new RangeError(`simulated camera rateHz must be within (0, 60], got ${rate}`);
    if (!(this.width >= 16 && this.height >= 16)) throw new RangeError(`simulated camera needs at least 16 × 16 pixels, got ${this.width} × ${this.height}`);
    if (opts.state.jointCount !== opts.profile.joints.length) {
      throw new RangeError(`simulated camera: state has ${opts.state.jointCount} joints, profile "${opts.profile.id}" ${opts.profile.joints.length}`);
    }
    this.state = opts.state;
    this.clock = opts.clock ?? systemClock;
    this.periodUs = 1e6 / rate;
    this.quality = opts.quality ?? 70;
    this.limits = {
      min: opts.profile.joints.map((j) => j.limits.positionMin),
      max: opts.profile.joints.map((j) => j.limits.positionMax),
    };
    this.rgba = new Uint8Array(this.width * this.height * 4);
    this.snapshot = newObservation(opts.state.jointCount);
  }

  latest(): CameraFrame | null {
    const now = this.clock.nowUs();
    if (this.frame !== null && now - this.frame.captureTimeUs < this.periodUs) return this.frame;
    return this.render(now);
  }

  /** Renders a frame of the current state now, whatever the rate. */
  render(nowUs = this.clock.nowUs()): CameraFrame {
    this.state.read(this.snapshot); // on failure: the last snapshot (zeros before any) is drawn
    drawJointSketch(this.rgba, this.width, this.height, this.snapshot.position, this.limits);
    const { data } = jpeg.encode({ data: this.rgba, width: this.width, height: this.height }, this.quality);
    this.frame = {
      cameraId: this.id, encoding: 'jpeg', data, width: this.width, height: this.height, captureTimeUs: nowUs, frameSeq: ++this.seq,
    };
    return this.frame;
  }
}
