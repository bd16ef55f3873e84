/**
 * A UART line of a given baud rate, one direction: bytes go out one after the other, each taking
 * 10 bit times (8N1), so a byte handed to the line while it is busy waits for the ones before it.
 * The virtual robot puts one on each direction when it is given a baud rate, so a host that sends
 * more than the line carries sees what it would see on a real 115200-baud cable: its bytes arrive
 * late, later and later, and the MCU watchdog trips when heartbeats wait behind a queue of commands.
 *
 * A pseudo-terminal has no baud rate (it moves bytes as fast as both ends read), which is why this
 * model exists; the kernel's termios speed on a PTY is only a number.
 *
 * Host → MCU (`RxLine`): the bytes the host wrote are taken off the PTY as they come and handed to
 * the MCU when their last bit has arrived, each frame (COBS frames end in 0x00) stamped with the
 * time its delimiter arrived.
 * MCU → host (`TxLine`): a budget for the UART's transmitter, in bytes it may hand to the PTY by now.
 */

/** UART 8N1: start bit, 8 data bits, stop bit. */
const BITS_PER_BYTE = 10;

/** µs one byte takes on a line of `baudRate`. */
export function byteTimeUs(baudRate: number): number {
  if (!(Number.isFinite(baudRate) && baudRate > 0)) throw new RangeError(`line baud rate ${baudRate} must be a positive number`);
  return (BITS_PER_BYTE * 1e6) / baudRate;
}

interface Segment {
  bytes: Uint8Array;
  /** Host µs at which the bytes were handed to the line. */
  atUs: number;
  /** Bytes of this segment already delivered. */
  off: number;
}

export interface RxLineCounters {
  bytesIn: number;
  bytesDelivered: number;
  /** Most bytes waiting for the line at once. */
  maxPending: number;
  /** Longest wait of a byte between being handed to the line and starting on it, µs. */
  maxQueueUs: number;
}

/** Host → MCU: bytes arrive at the MCU at the line's rate, in order. */
export class RxLine {
  readonly byteUs: number;
  readonly counters: RxLineCounters = { bytesIn: 0, bytesDelivered: 0, maxPending: 0, maxQueueUs: 0 };
  private readonly queue: Segment[] = [];
  private pendingBytes = 0;
  /** Host µs at which the line finishes the byte it is sending (or finished the last one). */
  private freeAtUs = Number.NEGATIVE_INFINITY;

  constructor(baudRate: number) {
    this.byteUs = byteTimeUs(baudRate);
  }

  get pending(): number {
    return this.pendingBytes;
  }

  /** Hands bytes to the line at `atUs` (copied: the caller may reuse its buffer). */
  push(chunk: Uint8Array, atUs: number): void {
    if (chunk.length === 0) return;
    this.queue.push({ bytes: Uint8Array.from(chunk), atUs, off: 0 });
    this.pendingBytes += chunk.length;
    this.counters.bytesIn += chunk.length;
    if (this.pendingBytes > this.counters.maxPending) this.counters.maxPending = this.pendingBytes;
  }

  /**
   * Hands `sink` every byte whose last bit has arrived by `nowUs`, cut after each 0x00, each piece
   * with the arrival time of its last byte. Pieces come in order and never span a delimiter.
   */
  deliver(nowUs: number, sink: (bytes: Uint8Array, arrivedUs: number) => void): void {
    const b = this.byteUs;
    while (this.queue.length > 0) {
      const seg = this.queue[0] as Segment;
      const start = Math.max(seg.atUs, this.freeAtUs);
      const left = seg.bytes.length - seg.off;
      const k = Math.min(left, Math.floor((nowUs - start) / b));
      if (k <= 0) return;
      const wait = start - seg.atUs - seg.off * b;
      if (seg.off === 0 && wait > this.counters.maxQueueUs) this.counters.maxQueueUs = wait;
      let from = seg.off;
      const end = seg.off + k;
      for (let i = seg.off; i < end; i++) {
        if (seg.bytes[i] !== 0 && i !== end - 1) continue;
        sink(seg.bytes.subarray(from, i + 1), start + (i - seg.off + 1) * b);
        from = i + 1;
      }
      this.freeAtUs = start + k * b;
      seg.off = end;
      this.pendingBytes -= k;
      this.counters.bytesDelivered += k;
      if (seg.off < seg.bytes.length) return;
      this.queue.shift();
    }
  }

  /** Forgets what waits (the device was unplugged). */
  clear(): void {
    this.queue.length = 0;
    this.pendingBytes = 0;
    this.freeAtUs = Number.NEGATIVE_INFINITY;
  }
}

/** MCU → host: how many bytes the UART may have sent by now. */
export class TxLine {
  readonly byteUs: number;
  /** Host µs at which the line finishes the bytes released so far (wake() moves it to the present). */
  private freeAtUs = 0;

  constructor(baudRate: number) {
    this.byteUs = byteTimeUs(baudRate);
  }

  /** Bytes start going out at `nowUs` if the line was idle (call when the queue was empty). */
  wake(nowUs: number): void {
    if (this.freeAtUs < nowUs) this.freeAtUs = nowUs;
  }

  /** Bytes whose last bit is out by `nowUs`, from where the line stands. */
  allowance(nowUs: number): number {
    return Math.max(0, Math.floor((nowUs - this.freeAtUs) / this.byteUs));
  }

  /** `n` bytes went out. */
  sent(n: number): void {
    this.freeAtUs += n * this.byteUs;
  }
}
