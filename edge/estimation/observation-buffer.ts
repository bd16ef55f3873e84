/**
 * The published observation, in one (Shared)ArrayBuffer guarded by a sequence lock, so a reader —
 * on this thread at any rate, or in a worker (the decoder) through `shared` — always copies out a
 * consistent snapshot while the writer never waits.
 *
 * Layout: Int32 `seq` at byte 0, then Float64 slots from byte 8: the HEADER scalars, then
 * orientation[4], angularRate[3], position[N], velocity[N], effort[N].
 * Protocol (single writer): beginWrite() makes seq odd; the writer stores into `slots` and the
 * view arrays; endWrite() makes seq even again. A reader copies only between two reads of the
 * same even seq, and retries otherwise. Atomics on seq order the plain stores and loads around it.
 * Invariant: seq is even iff no write is in progress.
 *
 * The estimator writes its results straight into these views (no copy per sample); readers copy
 * into their own Observation when they want one (read()).
 */
import type { Observation } from './observation.js';

/** Float64 slot indices of the scalars. */
export const Slot = {
  SAMPLE_COUNT: 0,
  HOST_TIME_US: 1,
  MCU_TIME_US: 2,
  SYNCED: 3,
  STATUS: 4,
  MCU_FAULTS: 5,
  JOINT_FAULT_MASK: 6,
  VALIDITY: 7,
  DETECTED: 8,
  JOINT_VALID_MASK: 9,
  TILT_RAD: 10,
  TILT_RATE: 11,
  FALLEN: 12,
} as const;
const HEADER = 13;
const SEQ_BYTES = 8;

export function observationBytes(jointCount: number): number {
  return SEQ_BYTES + 8 * (HEADER + 7 + 3 * jointCount);
}

export class ObservationBuffer {
  readonly jointCount: number;
  /** The memory, to hand to a worker (ObservationBuffer.attach). */
  readonly shared: SharedArrayBuffer | ArrayBuffer;
  /** Scalars, indexed by Slot. Write only between beginWrite() and endWrite(). */
  readonly slots: Float64Array;
  readonly orientation: Float64Array;
  readonly angularRate: Float64Array;
  readonly position: Float64Array;
  readonly velocity: Float64Array;
  readonly effort: Float64Array;
  private readonly seq: Int32Array;
  private readonly all: Float64Array;

  /** A new buffer for `jointCount` joints, in shared memory when the platform has it. */
  static create(jointCount: number): ObservationBuffer {
    const bytes = observationBytes(jointCount);
    const mem = typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const buf = new ObservationBuffer(mem, jointCount);
    buf.orientation[0] = 1; // identity until the first publish
    return buf;
  }

  /** A view of a buffer another thread created (the reader side of `shared`). */
  static attach(mem: SharedArrayBuffer | ArrayBuffer, jointCount: number): ObservationBuffer {
    if (mem.byteLength !== observationBytes(jointCount)) throw new RangeError(`ObservationBuffer.attach: ${mem.byteLength} bytes, expected ${observationBytes(jointCount)} for ${jointCount} joints`);
    return new ObservationBuffer(mem, jointCount);
  }

  private constructor(mem: SharedArrayBuffer | ArrayBuffer, jointCount: number) {
    this.jointCount = jointCount;
    this.shared = mem;
    this.seq = new Int32Array(mem, 0, 1);
    this.all = new Float64Array(mem, SEQ_BYTES);
    this.slots = this.all.subarray(0, HEADER);
    this.orientation = this.all.subarray(HEADER, HEADER + 4);
    this.angularRate = this.all.subarray(HEADER + 4, HEADER + 7);
    const p = HEADER + 7;
    this.position = this.all.subarray(p, p + jointCount);
    this.velocity = this.all.subarray(p + jointCount, p + 2 * jointCount);
    this.effort = this.all.subarray(p + 2 * jointCount, p + 3 * jointCount);
  }

  /** The sequence number: even and growing by 2 per publish. */
  get sequence(): number {
    return Atomics.load(this.seq, 0);
  }

  beginWrite(): void {
    Atomics.add(this.seq, 0, 1);
  }

  endWrite(): void {
    Atomics.add(this.seq, 0, 1);
  }

  /**
   * Copies the latest complete snapshot into `out` (made by newObservation(jointCount)). Returns
   * false, leaving `out` possibly half-written, only if `maxTries` attempts all overlapped a write
   * (a writer that died mid-write, or one publishing faster than a copy takes).
   */
  read(out: Observation, maxTries = 64): boolean {
    if (out.jointCount !== this.jointCount) throw new RangeError(`ObservationBuffer.read: snapshot has ${out.jointCount} joints, buffer ${this.jointCount}`);
    for (let t = 0; t < maxTries; t++) {
      const s1 = Atomics.load(this.seq, 0);
      if ((s1 & 1) !== 0) continue;
      const sl = this.slots;
      out.sampleCount = sl[Slot.SAMPLE_COUNT] as number;
      out.hostTimeUs = sl[Slot.HOST_TIME_US] as number;
      out.mcuTimeUs = sl[Slot.MCU_TIME_US] as number;
      out.synced = sl[Slot.SYNCED] === 1;
      out.status = sl[Slot.STATUS] as number;
      out.mcuFaults = sl[Slot.MCU_FAULTS] as number;
      out.jointFaultMask = sl[Slot.JOINT_FAULT_MASK] as number;
      out.validity = sl[Slot.VALIDITY] as number;
      out.detected = sl[Slot.DETECTED] as number;
      out.jointValidMask = sl[Slot.JOINT_VALID_MASK] as number;
      out.tiltRad = sl[Slot.TILT_RAD] as number;
      out.tiltRateRadS = sl[Slot.TILT_RATE] as number;
      out.fallen = sl[Slot.FALLEN] === 1;
      out.orientation.set(this.orientation);
      out.angularRate.set(this.angularRate);
      out.position.set(this.position);
      out.velocity.set(this.velocity);
      out.effort.set(this.effort);
      if (Atomics.load(this.seq, 0) === s1) return true;
    }
    return false;
  }
}
