/**
 * The byte link under the serial protocol: a small typed interface, implemented by the
 * real serial port (serialport-transport.ts) and by an in-memory fake whose far end a test drives
 * (memory-transport.ts).
 */
import type { EventEmitter } from 'node:events';

/** Why a transport closed: errors as data, like serialport's `disconnected` flag. */
export interface TransportClose {
  /** true when the device went away (cable pulled, USB reset); false for a deliberate close. */
  disconnected: boolean;
  /** The error that ended the link, when there was one. */
  error?: Error;
}

export type TransportEvents = {
  /** Bytes as they arrived, in any chunking. The chunk may be reused after the listener returns. */
  data: [chunk: Uint8Array];
  /** Emitted once when an open transport closes for any reason other than close() by its owner. */
  close: [info: TransportClose];
};

/**
 * Invariant: data and close are emitted only between a resolved open() and the close event or
 * close(); after close() no event is emitted at all.
 */
export interface Transport extends EventEmitter<TransportEvents> {
  readonly path: string;
  readonly isOpen: boolean;
  /**
   * The open device's file descriptor, when it has one that other threads may write to with
   * fs.writeSync (SharedWire); null or absent otherwise (then only write() reaches the device).
   */
  readonly fd?: number | null;
  /** Bytes accepted by write() and not yet handed to the device. */
  readonly bufferedBytes: number;
  /** Rejects when the device cannot be opened (absent, busy, no permission). */
  open(): Promise<void>;
  /**
   * Queues bytes for the device; the caller must not change them afterwards. Returns false when the
   * transport is not open (nothing queued) or when its buffer is above the high-water mark (queued,
   * but the caller should slow down).
   */
  write(bytes: Uint8Array): boolean;
  /** Deliberate close; resolves when the device is released. Safe to call twice. */
  close(): Promise<void>;
}

export type TransportFactory = (path: string, baudRate: number) => Transport;
