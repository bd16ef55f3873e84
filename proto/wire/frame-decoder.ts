/**
 * Streaming frame decoder: push bytes in any chunking, frames come out through a sink. It never
 * throws on line data and never allocates per frame: the Frame handed to the sink is reused and
 * valid only during the callback.
 *
 * Each byte is visited once by the COBS unstuffer, which runs as a state machine across chunk
 * boundaries (so a frame split over many reads costs the same as one read whole); the CRC is then
 * checked over the contiguous unstuffed packet.
 */
import { cobsMaxEncodedLength } from './cobs.js';
import { CRC_SIZE, HEADER_SIZE, MAX_PACKET, MIN_PACKET, PROTOCOL_MAJOR, isKnownMsgType } from './constants.js';
import { crc32c } from './crc32c.js';

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
  /** Arrivals whose sequence number went backwards (a restarted or duplicating sender). */
  seqRewinds: number;
}

export function newDecoderCounters(): DecoderCounters {
  return { bytes: 0, frames: 0, resyncs: 0, discardedBytes: 0, cobsErrors: 0, tooShort: 0, oversized: 0, crcErrors: 0, badVersion: 0, unknownType: 0, seqLost: 0, seqRewinds: 0 };
}

export class FrameDecoder {
  readonly counters: DecoderCounters = newDecoderCounters();
  private readonly maxPacket: number;
  private readonly maxSegment: number;
  private readonly frame: Frame;
  private readonly packet: Uint8Array;

  // Unstuffer state for the segment in progress.
  // Invariant: out <= maxPacket; blockLeft > 0 only while inside a COBS block; zeroPending is true
  // when the block just finished had a code below 0xFF, whose implied zero is written only once
  // another block follows (the last block of a segment implies none).
  private out = 0;
  private blockLeft = 0;
  private zeroPending = false;
  private segmentBytes = 0;
  /** Set when the segment is already known to be bad; bytes are dropped until the delimiter. */
  private failed: 'oversized' | null = null;
  private expectedSeq = -1;

  constructor(opts: { maxPacket?: number } = {}) {
    this.maxPacket = opts.maxPacket ?? MAX_PACKET;
    this.maxSegment = cobsMaxEncodedLength(this.maxPacket);
    this.packet = new Uint8Array(this.maxPacket);
    this.frame = { version: 0, type: 0, seq: 0, timeUs: 0, bytes: this.packet, view: new DataView(this.packet.buffer), bodyLength: 0 };
  }

  /** Forgets a partial segment and the sequence history, e.g. after the port was reopened. */
  reset(): void {
    this.startSegment();
    this.expectedSeq = -1;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    const n = chunk.length;
    this.counters.bytes += n;
    let pos = 0;
    while (pos < n) {
      const z = chunk.indexOf(0, pos);
      const end = z < 0 ? n : z;
      this.segmentBytes += end - pos;
      if (this.failed === null) this.unstuff(chunk, pos, end);
      if (z < 0) return;
      if (this.segmentBytes > 0) this.endSegment(sink);
      pos = z + 1;
    }
  }

  private startSegment(): void {
    this.out = 0;
    this.blockLeft = 0;
    this.zeroPending = false;
    this.segmentBytes = 0;
    this.failed = null;
  }

  private unstuff(src: Uint8Array, start: number, end: number): void {
    const p = this.packet;
    const limit = this.maxPacket;
    let o = this.out;
    let left = this.blockLeft;
    let zeroPending = this.zeroPending;
    let i = start;
    // Finish a block begun in an earlier chunk.
    if (left > 0) {
      const stop = end - i < left ? end : i + left;
      left -= stop - i;
      while (i < stop) p[o++] = src[i++] as number;
    }
    while (i < end) {
      // Invariant: src[i] is a code byte.
      if (zeroPending) {
        if (o >= limit) { this.failed = 'oversized'; return; }
        p[o++] = 0;
      }
      const code = src[i++] as number;
      zeroPending = code !== 0xff;
      if (o + code - 1 > limit) { this.failed = 'oversized'; return; }
      const blockEnd = i + code - 1;
      if (blockEnd <= end) {
        while (i < blockEnd) p[o++] = src[i++] as number;
        left = 0;
      } else {
        left = blockEnd - end;
        while (i < end) p[o++] = src[i++] as number;
      }
    }
    this.out = o;
    this.blockLeft = left;
    this.zeroPending = zeroPending;
  }

  private endSegment(sink: FrameSink): void {
    const len = this.segmentBytes;
    const n = this.out;
    const failed = this.failed;
    const blockCut = this.blockLeft > 0;
    this.startSegment();
    if (failed !== null || len > this.maxSegment) return this.discard('oversized', len, sink);
    if (blockCut) return this.discard('cobs', len, sink);
    if (n < MIN_PACKET) return this.discard('short', len, sink);
    const f = this.frame;
    const b = this.packet;
    const crcAt = n - CRC_SIZE;
    if (crc32c(b, 0, crcAt) !== f.view.getUint32(crcAt, true)) return this.discard('crc', len, sink);
    const version = b[0] as number;
    const type = b[1] as number;
    if (version !== PROTOCOL_MAJOR) {
      this.counters.badVersion++;
      if (sink.onFrameError) sink.onFrameError('version', `frame version ${version}, this side speaks ${PROTOCOL_MAJOR}`);
      return;
    }
    const seq = f.view.getUint16(2, true);
    this.trackSeq(seq);
    if (!isKnownMsgType(type)) {
      this.counters.unknownType++;
      if (sink.onFrameError) sink.onFrameError('unknown-type', `message type 0x${type.toString(16).padStart(2, '0')} (seq ${seq})`);
      return;
    }
    f.version = version;
    f.type = type;
    f.seq = seq;
    f.timeUs = f.view.getUint32(4, true);
    f.bodyLength = crcAt - HEADER_SIZE;
    this.counters.frames++;
    sink.onFrame(f);
  }

  private trackSeq(seq: number): void {
    if (this.expectedSeq >= 0) {
      const gap = (seq - this.expectedSeq) & 0xffff;
      if (gap >= 0x8000) this.counters.seqRewinds++;
      else this.counters.seqLost += gap;
    }
    this.expectedSeq = (seq + 1) & 0xffff;
  }

  private discard(kind: 'cobs' | 'short' | 'oversized' | 'crc', len: number, sink: FrameSink): void {
    const c = this.counters;
    c.resyncs++;
    c.discardedBytes += len;
    if (kind === 'cobs') c.cobsErrors++;
    else if (kind === 'short') c.tooShort++;
    else if (kind === 'oversized') c.oversized++;
    else c.crcErrors++;
    if (sink.onFrameError) sink.onFrameError(kind, `${kind} segment of ${len} bytes discarded`);
  }
}
