/**
 * The MCU's UART transmit buffer: a byte ring between the firmware, which produces whole frames,
 * and a non-blocking writer that takes what the kernel accepts.
 *
 * Invariants: a frame is admitted whole or not at all (a dropped frame is counted, never cut, so
 * the host loses exactly that frame and no neighbour); bytes leave in the order they came; the
 * ring owns its storage, so producers may reuse their buffers as soon as enqueue() returns.
 */
export interface TxCounters {
  framesQueued: number;
  /** Frames refused because the ring was full (the host was not reading fast enough). */
  framesDropped: number;
  bytesDropped: number;
  bytesWritten: number;
  /** Flushes that stopped because the writer took nothing (EAGAIN: the PTY queue is full). */
  writerFull: number;
}

/** Writes bytes[offset, offset + length) without blocking; returns how many were taken. */
export type NonBlockingWriter = (bytes: Uint8Array, offset: number, length: number) => number;

export class TxQueue {
  readonly counters: TxCounters = { framesQueued: 0, framesDropped: 0, bytesDropped: 0, bytesWritten: 0, writerFull: 0 };
  private readonly ring: Uint8Array;
  /** Index of the oldest pending byte; `size` bytes are pending from there, wrapping. */
  private head = 0;
  private size = 0;

  constructor(capacity = 64 * 1024) {
    if (!Number.isInteger(capacity) || capacity < 1024) throw new RangeError(`TxQueue: capacity=${capacity} must be an integer >= 1024`);
    this.ring = new Uint8Array(capacity);
  }

  get pending(): number {
    return this.size;
  }

  /** Copies one frame in; false (and counted) when it does not fit whole. */
  enqueue(bytes: Uint8Array, length: number): boolean {
    const cap = this.ring.length;
    if (length > cap - this.size) {
      this.counters.framesDropped++;
      this.counters.bytesDropped += length;
      return false;
    }
    // A byte loop rather than set(subarray()): no view object per frame.
    const ring = this.ring;
    let t = (this.head + this.size) % cap;
    for (let i = 0; i < length; i++) {
      ring[t] = bytes[i] as number;
      if (++t === cap) t = 0;
    }
    this.size += length;
    this.counters.framesQueued++;
    return true;
  }

  /**
   * Hands pending bytes to `write` until it takes nothing, the ring is empty, or `limit` bytes went
   * (a line's rate: see line-rate.ts). Returns how many bytes it took.
   */
  flush(write: NonBlockingWriter, limit = Number.POSITIVE_INFINITY): number {
    const cap = this.ring.length;
    let total = 0;
    while (this.size > 0 && total < limit) {
      const len = Math.min(this.size, cap - this.head, limit - total);
      const n = write(this.ring, this.head, len);
      if (n <= 0) {
        this.counters.writerFull++;
        return total;
      }
      this.head = (this.head + n) % cap;
      this.size -= n;
      total += n;
      this.counters.bytesWritten += n;
    }
    if (this.size === 0) this.head = 0;
    return total;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}
