/**
 * In-memory Transport whose far end a test drives: the fake beside the interface.
 * Delivery is asynchronous in both directions (one microtask), as with a real port, so code under
 * test never sees a reply re-entrantly inside its own write().
 */
import { EventEmitter } from 'node:events';
import type { Transport, TransportEvents } from './transport.js';

export interface MemoryTransportOptions {
  /** open() rejects with this error (a device that is absent or busy). */
  openError?: Error;
  /** Reported by bufferedBytes, to exercise backpressure handling. */
  bufferedBytes?: number;
}

export class MemoryTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly path: string;
  readonly baudRate: number;
  private open_ = false;
  private closedByOwner = false;
  /** Every chunk the host side wrote, in order (copies). */
  readonly written: Uint8Array[] = [];
  /** Test-controlled backlog size reported to the host side. */
  bufferedBytes: number;
  private readonly openError: Error | undefined;
  private readonly farListeners: ((bytes: Uint8Array) => void)[] = [];

  constructor(path: string, baudRate: number, opts: MemoryTransportOptions = {}) {
    super();
    this.path = path;
    this.baudRate = baudRate;
    this.openError = opts.openError;
    this.bufferedBytes = opts.bufferedBytes ?? 0;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  /** True once close() was called by the owner (as opposed to vanish()). */
  get closedDeliberately(): boolean {
    return this.closedByOwner;
  }

  async open(): Promise<void> {
    await Promise.resolve();
    if (this.openError) throw this.openError;
    if (this.closedByOwner) throw new Error(`${this.path}: transport already closed`);
    this.open_ = true;
  }

  write(bytes: Uint8Array): boolean {
    if (!this.open_) return false;
    const copy = Uint8Array.from(bytes);
    this.written.push(copy);
    queueMicrotask(() => {
      if (!this.open_) return;
      for (const fn of this.farListeners) fn(copy);
    });
    return this.bufferedBytes === 0;
  }

  async close(): Promise<void> {
    this.closedByOwner = true;
    this.open_ = false;
    await Promise.resolve();
  }

  // ---- far end (the device side), for tests ----

  /** Registers a listener for bytes the host side writes. */
  onFarData(fn: (bytes: Uint8Array) => void): void {
    this.farListeners.push(fn);
  }

  /** Sends bytes from the device to the host side. Dropped when the transport is not open. */
  farWrite(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    queueMicrotask(() => {
      if (this.open_) this.emit('data', copy);
    });
  }

  /** The device disappears: the transport closes with disconnected = true. */
  vanish(): void {
    if (!this.open_) return;
    this.open_ = false;
    const error = Object.assign(new Error(`${this.path}: device disconnected`), { disconnected: true });
    queueMicrotask(() => this.emit('close', { disconnected: true, error }));
  }
}
