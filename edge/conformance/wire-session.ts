/**
 * The conformance tool's end of the serial line: one encoder, one decoder, and a record of every
 * frame the MCU sent with the host time it arrived. Checks send frames and wait for the answer
 * they expect (or for a deadline, which on a real device is the only way to learn that an answer
 * never comes). Nothing here judges the MCU; checks.ts does.
 */
import { performance } from 'node:perf_hooks';
import {
  FrameDecoder, FrameEncoder, MsgType, PROTOCOL_MAJOR, cobsEncode, crc32c, newMessage, readFrame,
  type Frame, type FrameErrorKind, type MessageMap, type StateMsg,
} from '../../proto/wire/index.js';
import type { Transport } from '../serial/transport.js';

/** One frame from the MCU, decoded (body errors are kept with `bodyError` set). */
export interface Rx<T extends MsgType = MsgType> {
  type: T;
  seq: number;
  /** The MCU's time_us. */
  timeUs: number;
  /** Host monotonic µs when the chunk holding it arrived. */
  hostUs: number;
  msg: MessageMap[T];
  bodyError: string | null;
}

export function hostNowUs(): number {
  return performance.now() * 1000;
}

interface Waiter {
  test: (rx: Rx) => boolean;
  resolve: (rx: Rx | null) => void;
  timer: NodeJS.Timeout;
}

export class WireSession {
  readonly received: Rx[] = [];
  readonly lineErrors: Record<FrameErrorKind, number> = { cobs: 0, short: 0, oversized: 0, crc: 0, version: 0, 'unknown-type': 0 };
  readonly decoder = new FrameDecoder();
  private readonly encoder = new FrameEncoder();
  private readonly waiters = new Set<Waiter>();
  private readonly t0 = hostNowUs();

  constructor(private readonly transport: Transport) {
    transport.on('data', (chunk) => this.onData(chunk));
  }

  /** Host time since the session began, µs: the time_us of the frames the tool sends. */
  private hostTimeUs(): number {
    return Math.floor(hostNowUs() - this.t0) >>> 0;
  }

  get nextSeq(): number {
    return this.encoder.nextSeq;
  }

  /** Sends one frame; returns its seq. */
  send<T extends MsgType>(type: T, msg: MessageMap[T]): number {
    const seq = this.encoder.nextSeq;
    this.transport.write(this.encoder.encode(type, msg, this.hostTimeUs()));
    return seq;
  }

  /**
   * Sends a frame with any body bytes (one a conforming encoder refuses to write), correctly
   * stuffed and checksummed, with the next sequence number; returns that number.
   */
  sendBody(type: number, body: number[], version = PROTOCOL_MAJOR): number {
    const seq = this.encoder.nextSeq;
    const p = new Uint8Array(8 + body.length + 4);
    const v = new DataView(p.buffer);
    p[0] = version; p[1] = type; v.setUint16(2, seq, true); v.setUint32(4, this.hostTimeUs(), true);
    p.set(body, 8);
    v.setUint32(8 + body.length, crc32c(p, 0, 8 + body.length), true);
    const out = new Uint8Array(p.length + 8);
    const n = cobsEncode(p, 0, p.length, out, 0);
    out[n] = 0;
    this.transport.write(out.subarray(0, n + 1));
    this.encoder.nextSeq = seq + 1;
    return seq;
  }

  /** Sends raw bytes (malformed frames, garbage) as they are. */
  sendRaw(bytes: Uint8Array): void {
    this.transport.write(bytes);
  }

  /** Several frames in one write, so they reach the MCU together. */
  sendTogether(frames: { type: MsgType; msg: MessageMap[MsgType] }[]): number[] {
    const seqs: number[] = [];
    const parts = frames.map((f) => {
      seqs.push(this.encoder.nextSeq);
      return this.encoder.encode(f.type, f.msg, this.hostTimeUs());
    });
    this.transport.write(Buffer.concat(parts));
    return seqs;
  }

  /** The first frame received from index `from` on that passes `test`, waiting up to `timeoutMs`. */
  waitFor(test: (rx: Rx) => boolean, timeoutMs: number, from = this.received.length): Promise<Rx | null> {
    for (let i = from; i < this.received.length; i++) {
      const rx = this.received[i] as Rx;
      if (test(rx)) return Promise.resolve(rx);
    }
    return new Promise((resolve) => {
      const w: Waiter = {
        test,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(null);
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  waitForType<T extends MsgType>(type: T, timeoutMs: number, test: (m: MessageMap[T]) => boolean = () => true, from?: number): Promise<Rx<T> | null> {
    return this.waitFor((rx) => rx.type === type && rx.bodyError === null && test(rx.msg as MessageMap[T]), timeoutMs, from) as Promise<Rx<T> | null>;
  }

  /** A STATE that satisfies `test`, received from now on. */
  waitForState(test: (s: StateMsg) => boolean, timeoutMs: number): Promise<Rx<typeof MsgType.STATE> | null> {
    return this.waitForType(MsgType.STATE, timeoutMs, test);
  }

  /** Resolves after `ms` (the tool paces itself against a real device; tests never rely on it). */
  static pause(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  latestState(): Rx<typeof MsgType.STATE> | null {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const rx = this.received[i] as Rx;
      if (rx.type === MsgType.STATE && rx.bodyError === null) return rx as Rx<typeof MsgType.STATE>;
    }
    return null;
  }

  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters.clear();
  }

  private onData(chunk: Uint8Array): void {
    const hostUs = hostNowUs();
    this.decoder.push(chunk, {
      onFrame: (f: Frame) => {
        const type = f.type as MsgType;
        const msg = newMessage(type);
        const rx: Rx = { type, seq: f.seq, timeUs: f.timeUs, hostUs, msg, bodyError: readFrame(f, type, msg) };
        this.received.push(rx);
        for (const w of this.waiters) {
          if (w.test(rx)) {
            clearTimeout(w.timer);
            this.waiters.delete(w);
            w.resolve(rx);
          }
        }
      },
      onFrameError: (kind) => {
        this.lineErrors[kind]++;
      },
    });
  }
}
