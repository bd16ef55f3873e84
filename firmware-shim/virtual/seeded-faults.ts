/**
 * Seeded firmware faults for testing `spinal conformance`: each one makes the virtual firmware
 * behave like a firmware with one specific bug, without touching the C core that ships. The fault
 * sits between the wire and the core, as the bug would sit in a firmware's integration: frames from
 * the host are rewritten (or answered by injected frames) before the core sees them, and frames from
 * the core are rewritten before they reach the line. With no fault selected nothing here runs, so
 * the code under test is the code that ships.
 *
 * Invariant: with a fault active, every frame to the host is re-encoded by this layer's own encoder
 * (one sequence counter, so dropping a frame leaves no gap, as a firmware that never sent it would).
 */
import {
  CRC_SIZE, FrameDecoder, HEADER_SIZE, MAX_ENCODED_FRAME, MsgType, ResetWhat, cobsEncode, crc32c,
  FrameEncoder, type Frame,
} from '../../proto/wire/index.js';

export const SEEDED_FAULTS = {
  'crc-polynomial': 'CRC-32 (IEEE, 0xEDB88320) instead of CRC-32C on every frame, both ways',
  'no-watchdog': 'the watchdog timeout from CONFIG is replaced by 65535 ms (it never trips in practice)',
  'estop-not-latched': 'a host ESTOP stops the drives, but the latch is cleared at once',
  'reset-token-ignored': 'ACKs of RESET carry detail 0 instead of the token',
  'limits-not-clamped': 'CONFIG limits are replaced by the widest values (targets are not clamped to them)',
  'state-rate-short': 'STATE runs at 80 % of the rate CONFIG asked for',
} as const;
export type SeededFault = keyof typeof SEEDED_FAULTS;

export function isSeededFault(name: string): name is SeededFault {
  return Object.prototype.hasOwnProperty.call(SEEDED_FAULTS, name);
}

/** Token of the RESET this layer injects after an ESTOP ('estop-not-latched'); its ACK is dropped. */
const INJECTED_TOKEN = 0xfa17fa17;

/** Bitwise CRC-32 (IEEE 802.3, reflected 0xEDB88320): the wrong polynomial on purpose. */
function crc32Ieee(p: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= p[i] as number;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export class SeededFaultLayer {
  readonly fault: SeededFault;
  private readonly fromHost = new FrameDecoder();
  private readonly fromCore = new FrameDecoder();
  private readonly injector = new FrameEncoder({ firstSeq: 0x8000 });
  private seq = 0;
  private readonly scratch = new Uint8Array(MAX_ENCODED_FRAME);

  constructor(fault: SeededFault) {
    this.fault = fault;
  }

  /** Power-on: a rebooted firmware numbers its frames from 0 again. */
  reset(): void {
    this.seq = 0;
    this.fromHost.reset();
    this.fromCore.reset();
  }

  /** Host → core: the bytes the core gets instead of `chunk`. */
  inbound(chunk: Uint8Array): Uint8Array {
    // A firmware checking the wrong polynomial refuses every good frame from the host.
    if (this.fault === 'crc-polynomial') return new Uint8Array(0);
    const out: Uint8Array[] = [];
    this.fromHost.push(chunk, {
      onFrame: (f) => {
        this.rewriteInbound(f);
        out.push(this.restuff(f, f.seq, crc32c));
        if (this.fault === 'estop-not-latched' && f.type === MsgType.ESTOP) {
          out.push(this.injector.encode(MsgType.RESET, { what: ResetWhat.ESTOP, token: INJECTED_TOKEN }, f.timeUs));
        }
      },
    });
    return concat(out);
  }

  /** Core → host: the bytes the line gets instead of `bytes[0, length)`. */
  outbound(bytes: Uint8Array, length: number): Uint8Array {
    const out: Uint8Array[] = [];
    this.fromCore.push(bytes.subarray(0, length), {
      onFrame: (f) => {
        if (!this.keepOutbound(f)) return;
        out.push(this.restuff(f, this.seq, this.fault === 'crc-polynomial' ? crc32Ieee : crc32c));
        this.seq = (this.seq + 1) & 0xffff;
      },
    });
    return concat(out);
  }

  private rewriteInbound(f: Frame): void {
    if (f.type !== MsgType.CONFIG || f.bodyLength < 8) return;
    const v = f.view;
    const n = f.bytes[HEADER_SIZE + 4] as number;
    if (this.fault === 'no-watchdog') v.setUint16(HEADER_SIZE, 0xffff, true);
    if (this.fault === 'state-rate-short') v.setUint16(HEADER_SIZE + 2, Math.floor(v.getUint16(HEADER_SIZE + 2, true) * 0.8), true);
    if (this.fault === 'limits-not-clamped') {
      for (let j = 0; j < n && HEADER_SIZE + 8 + 16 * j + 16 <= HEADER_SIZE + f.bodyLength; j++) {
        const p = HEADER_SIZE + 8 + 16 * j;
        v.setInt32(p, -0x80000000, true);
        v.setInt32(p + 4, 0x7fffffff, true);
        v.setFloat32(p + 8, 1e9, true);
        v.setFloat32(p + 12, 1e3, true);
      }
    }
  }

  /** Whether a core frame reaches the line; rewrites it in place when it does. */
  private keepOutbound(f: Frame): boolean {
    if (f.type !== MsgType.ACK) return true;
    const acked = f.bytes[HEADER_SIZE] as number;
    const detail = f.view.getUint32(HEADER_SIZE + 4, true);
    if (this.fault === 'estop-not-latched' && acked === MsgType.RESET && detail === INJECTED_TOKEN) return false;
    if (this.fault === 'reset-token-ignored' && acked === MsgType.RESET) f.view.setUint32(HEADER_SIZE + 4, 0, true);
    return true;
  }

  /** The frame's packet with `seq` and a fresh CRC, stuffed and delimited. */
  private restuff(f: Frame, seq: number, crc: (p: Uint8Array, start: number, end: number) => number): Uint8Array {
    const end = HEADER_SIZE + f.bodyLength;
    const p = f.bytes;
    f.view.setUint16(2, seq, true);
    f.view.setUint32(end, crc(p, 0, end) >>> 0, true);
    const n = cobsEncode(p, 0, end + CRC_SIZE, this.scratch, 0);
    this.scratch[n] = 0;
    return this.scratch.slice(0, n + 1);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
