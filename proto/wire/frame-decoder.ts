/**
 * Streaming frame decoder: push bytes in any chunking, frames come out through a sink. It never
 * throws on line data and never allocates per frame: the Frame handed to the sink is reused and
 * valid only during the callback.
 */
import { cobsDecode, cobsMaxEncodedLength } from './cobs.js';
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
  /** Encoded bytes of a segment that spans chunks; `pendingLen` of them are valid. */
  private readonly pending: Uint8Array;
  private pendingLen = 0;
  /** Invariant: when true, bytes up to the next delimiter are discarded (oversized segment). */
  private skipping = false;
  private skippedBytes = 0;
  private expectedSeq = -1;
  private readonly frame: Frame;

  constructor(opts: { maxPacket?: number } = {}) {
    this.maxPacket = opts.maxPacket ?? MAX_PACKET;
    this.maxSegment = cobsMaxEncodedLength(this.maxPacket);
    this.pending = new Uint8Array(this.maxSegment);
    const bytes = new Uint8Array(this.maxPacket);
    this.frame = { version: 0, type: 0, seq: 0, timeUs: 0, bytes, view: new DataView(bytes.buffer), bodyLength: 0 };
  }

  /** Forgets a partial segment and the sequence history, e.g. after the port was reopened. */
  reset(): void {
    this.pendingLen = 0;
    this.skipping = false;
    this.skippedBytes = 0;
    this.expectedSeq = -1;
  }

  push(chunk: Uint8Array, sink: FrameSink): void {
    const n = chunk.length;
    this.counters.bytes += n;
    let pos = 0;
    while (pos < n) {
      const z = chunk.indexOf(0, pos);
      const segEnd = z < 0 ? n : z;
      if (this.skipping) {
        this.skippedBytes += segEnd - pos;
      } else if (this.pendingLen === 0 && z >= 0) {
        // Fast path: the whole segment lies inside this chunk; decode it in place.
        if (segEnd > pos) this.segment(chunk, pos, segEnd, sink);
      } else {
        const len = segEnd - pos;
        if (this.pendingLen + len > this.maxSegment) {
          this.skipping = true;
          this.skippedBytes = this.pendingLen + len;
          this.pendingLen = 0;
        } else {
          // A byte loop rather than set(subarray()): no view object per chunk.
          const p = this.pending;
          let o = this.pendingLen;
          for (let i = pos; i < segEnd; i++) p[o++] = chunk[i] as number;
          this.pendingLen = o;
          if (z >= 0) {
            const l = this.pendingLen;
            this.pendingLen = 0;
            this.segment(this.pending, 0, l, sink);
          }
        }
      }
      if (z < 0) break;
      if (this.skipping) {
        this.skipping = false;
        this.discard('oversized', this.skippedBytes, sink);
        this.skippedBytes = 0;
      }
      pos = z + 1;
    }
  }

  private segment(src: Uint8Array, start: number, end: number, sink: FrameSink): void {
    const c = this.counters;
    const len = end - start;
    if (len > this.maxSegment) return this.discard('oversized', len, sink);
    const f = this.frame;
    const n = cobsDecode(src, start, end, f.bytes, this.maxPacket);
    if (n === -2) return this.discard('oversized', len, sink);
    if (n < 0) return this.discard('cobs', len, sink);
    if (n < MIN_PACKET) return this.discard('short', len, sink);
    const b = f.bytes;
    const crcAt = n - CRC_SIZE;
    const want = f.view.getUint32(crcAt, true);
    if (crc32c(b, 0, crcAt) !== want) return this.discard('crc', len, sink);
    const version = b[0] as number;
    const type = b[1] as number;
    if (version !== PROTOCOL_MAJOR) {
      c.badVersion++;
      sink.onFrameError?.('version', `frame version ${version}, this side speaks ${PROTOCOL_MAJOR}`);
      return;
    }
    const seq = f.view.getUint16(2, true);
    this.trackSeq(seq);
    if (!isKnownMsgType(type)) {
      c.unknownType++;
      sink.onFrameError?.('unknown-type', `message type 0x${type.toString(16).padStart(2, '0')} (seq ${seq})`);
      return;
    }
    f.version = version;
    f.type = type;
    f.seq = seq;
    f.timeUs = f.view.getUint32(4, true);
    f.bodyLength = crcAt - HEADER_SIZE;
    c.frames++;
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
