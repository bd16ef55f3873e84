/**
 * Builds wire frames: header, body, CRC-32C, COBS-stuffed, 0x00-terminated. One encoder per
 * sending direction: it owns that direction's sequence counter.
 */
import { cobsEncode, cobsMaxEncodedLength } from './cobs.js';
import { CRC_SIZE, HEADER_SIZE, MAX_PACKET, PROTOCOL_MAJOR, type MsgType } from './constants.js';
import { crc32c } from './crc32c.js';
import { WireEncodeError, writeBody, type MessageMap } from './messages.js';

/** Largest encoded frame, delimiter included. */
export const MAX_ENCODED_FRAME = cobsMaxEncodedLength(MAX_PACKET) + 1;

export class FrameEncoder {
  /** Invariant: `seq` is the sequence number of the next frame, 0..65535. */
  private seq: number;
  private readonly packet = new Uint8Array(MAX_PACKET);
  private readonly view = new DataView(this.packet.buffer);
  private readonly scratch = new Uint8Array(MAX_ENCODED_FRAME);
  private readonly version: number;

  constructor(opts: { firstSeq?: number; version?: number } = {}) {
    this.seq = (opts.firstSeq ?? 0) & 0xffff;
    this.version = opts.version ?? PROTOCOL_MAJOR;
  }

  get nextSeq(): number {
    return this.seq;
  }

  /** Continues another encoder's numbering: two threads writing one direction share one counter
   * (edge/serial/shared-wire.ts) and each sets it here, under their common lock, before encoding. */
  set nextSeq(seq: number) {
    this.seq = seq & 0xffff;
  }

  /**
   * Encodes one frame into dst at dstOffset (dst needs MAX_ENCODED_FRAME bytes free); returns the
   * number of bytes written. Throws WireEncodeError, before consuming a sequence number, when the
   * message must not reach the wire.
   */
  encodeInto<T extends MsgType>(type: T, msg: MessageMap[T], timeUs: number, dst: Uint8Array, dstOffset = 0): number {
    const p = this.packet;
    const bodyLen = writeBody(type, msg, this.view, p, HEADER_SIZE);
    const end = HEADER_SIZE + bodyLen;
    if (end + CRC_SIZE > MAX_PACKET) throw new WireEncodeError(`frame of ${end + CRC_SIZE} bytes exceeds MAX_PACKET=${MAX_PACKET}`);
    p[0] = this.version;
    p[1] = type;
    this.view.setUint16(2, this.seq, true);
    this.view.setUint32(4, timeUs >>> 0, true);
    this.view.setUint32(end, crc32c(p, 0, end), true);
    const o = cobsEncode(p, 0, end + CRC_SIZE, dst, dstOffset);
    dst[o] = 0;
    this.seq = (this.seq + 1) & 0xffff;
    return o + 1 - dstOffset;
  }

  /** Encodes one frame into a new Buffer of its exact size, safe to hand to asynchronous writers. */
  encode<T extends MsgType>(type: T, msg: MessageMap[T], timeUs: number): Buffer {
    const n = this.encodeInto(type, msg, timeUs, this.scratch, 0);
    return Buffer.from(this.scratch.subarray(0, n));
  }
}
