/**
 * Streaming frame decoder: push bytes in any chunking, frames come out through a sink. It never
 * throws on line data and never allocates per frame: the Frame handed to the sink is reused and
 * valid only during the callback.
 *
 * The byte loop (COBS unstuffing, CRC-32C) runs in a small WebAssembly kernel (kernel/unstuff.wat)
 * as a state machine across chunk boundaries, so a frame split over many reads decodes the same as
 * one read whole; this class copies each chunk into the kernel's input window and turns what the
 * kernel reports into frames, counters and errors.
 */
import { CRC_SIZE, HEADER_SIZE, MAX_PACKET, MsgType, PROTOCOL_MAJOR, isKnownMsgType } from './constants.js';
import { KERNEL_INPUT, KERNEL_INPUT_CAPACITY, KernelStatus, createUnstuffKernel, type UnstuffKernel } from './kernel/unstuff-kernel.js';

export interface Frame {
  version: number;
  type: number;
  seq: number;
  /** Sender's clock, µs, modulo 2^32. */
  timeUs: number;
  /** The unstuffed packet; the body is bytes[HEADER_SIZE, HEADER_SIZE + bodyLength). */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  bodyLength: number;
}

/** Why a segment between two delimiters was discarded. */
export type FrameErrorKind = 'cobs' | 'short' | 'oversized' | 'crc' | 'version' | 'unknown-type';

export interface FrameSink {
  onFrame(frame: Frame): void;
  /** Optional; `detail` names the offending value. Called only on errors, so it may allocate. */
  onFrameError?(kind: FrameErrorKind, detail: string): void;
}

export interface DecoderCounters {
  bytes: number;
  frames: number;
  /** Segments discarded for any reason: each one is a resynchronisation at the next delimiter. */
  resyncs: number;
  discardedBytes: number;
  cobsErrors: number;
  tooShort: number;
  oversized: number;
  crcErrors: number;
  badVersion: number;
  unknownType: number;
  /** Frames missing according to the sequence numbers of the frames that arrived. */
  seqLost: number;
  /** Arrivals whose sequence number went backwards (a restarted or duplicating sender), and
   * restarts announced by a HELLO with seq 0 that did not follow seq 65535. */
  seqRewinds: number;
}

export function newDecoderCounters(): DecoderCounters {
  return { bytes: 0, frames: 0, resyncs: 0, discardedBytes: 0, cobsErrors: 0, tooShort: 0, oversized: 0, crcErrors: 0, badVersion: 0, unknownType: 0, seqLost: 0, seqRewinds: 0 };
}

export class FrameDecoder {
  readonly counters: DecoderCounters = newDecoderCounters();
  private readonly kernel: UnstuffKernel;
  private readonly frame: Frame;
  private expectedSeq = -1;
  /** The header version of the newest frame refused for speaking another protocol major; -1 if none. */
  lastForeignVersion = -1;

  constructor(opts: { maxPacket?: number } = {}) {
    this.kernel = createUnstuffKernel(opts.maxPacket ?? MAX_PACKET);
    this.frame = { version: 0, type: 0, seq: 0, timeUs: 0, bytes: this.kernel.packet, view: this.kernel.packetView, bodyLength: 0 };
  }

  /** Forgets a partial segment and the sequence history, e.g. after the port was reopened. */
  reset(): void {
    this.kernel.exports.reset();
    this.expectedSeq = -1;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    this.counters.bytes += chunk.length;
    if (chunk.length <= KERNEL_INPUT_CAPACITY) {
      this.window(chunk, sink);
      return;
    }
    // Larger than the kernel's window: one view per 64 KiB slice, not per frame.
    for (let i = 0; i < chunk.length; i += KERNEL_INPUT_CAPACITY) this.window(chunk.subarray(i, i + KERNEL_INPUT_CAPACITY), sink);
  }

  private window(chunk: Uint8Array, sink: FrameSink): void {
    const k = this.kernel;
    k.memory.set(chunk, KERNEL_INPUT);
    k.exports.feed(chunk.length);
    for (;;) {
      const r = k.exports.next();
      if (r === KernelStatus.NEED_INPUT) return;
      const status = r & 7;
      if (status === KernelStatus.OK) this.packet(r >>> 3, sink);
      else if (status !== KernelStatus.EMPTY) this.discard(status, r >>> 3, sink);
    }
  }

  private packet(n: number, sink: FrameSink): void {
    const f = this.frame;
    const b = f.bytes;
    const version = b[0] as number;
    const type = b[1] as number;
    if (version !== PROTOCOL_MAJOR) {
      this.counters.badVersion++;
      this.lastForeignVersion = version;
      if (sink.onFrameError) sink.onFrameError('version', `frame version ${version}, this side speaks ${PROTOCOL_MAJOR}`);
      return;
    }
    const seq = f.view.getUint16(2, true);
    this.trackSeq(seq, type);
    if (!isKnownMsgType(type)) {
      this.counters.unknownType++;
      if (sink.onFrameError) sink.onFrameError('unknown-type', `message type 0x${type.toString(16).padStart(2, '0')} (seq ${seq})`);
      return;
    }
    f.version = version;
    f.type = type;
    f.seq = seq;
    f.timeUs = f.view.getUint32(4, true);
    f.bodyLength = n - CRC_SIZE - HEADER_SIZE;
    this.counters.frames++;
    sink.onFrame(f);
  }

  /**
   * SPEC §2: a HELLO with seq 0 is a sender that (re)started its numbering (power-on, port
   * reopened), so the step to it is a restart, never lost frames, wherever the old number was.
   */
  private trackSeq(seq: number, type: number): void {
    if (seq === 0 && type === MsgType.HELLO) {
      if (this.expectedSeq > 0) this.counters.seqRewinds++;
    } else if (this.expectedSeq >= 0) {
      const gap = (seq - this.expectedSeq) & 0xffff;
      if (gap >= 0x8000) this.counters.seqRewinds++;
      else this.counters.seqLost += gap;
    }
    this.expectedSeq = (seq + 1) & 0xffff;
  }

  private discard(status: number, len: number, sink: FrameSink): void {
    const c = this.counters;
    c.resyncs++;
    c.discardedBytes += len;
    let kind: FrameErrorKind;
    if (status === KernelStatus.COBS) { c.cobsErrors++; kind = 'cobs'; }
    else if (status === KernelStatus.SHORT) { c.tooShort++; kind = 'short'; }
    else if (status === KernelStatus.OVERSIZED) { c.oversized++; kind = 'oversized'; }
    else { c.crcErrors++; kind = 'crc'; }
    if (sink.onFrameError) sink.onFrameError(kind, `${kind} segment of ${len} bytes discarded`);
  }
}
