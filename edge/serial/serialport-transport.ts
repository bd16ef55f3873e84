/**
 * Transport over a real serial device with node-serialport: raw 8N1, no flow control, the low-latency
 * flag where the driver has one. serialport opens and configures the line and owns the descriptor
 * that writes use; reading is done by a TtyReader on a descriptor of its own (tty-reader.ts says
 * why), never by serialport's stream.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Transport, TransportEvents } from './transport.js';
import { TtyReader } from './tty-reader.js';

export interface SerialPortTransportOptions {
  /**
   * Ask the driver for ASYNC_LOW_LATENCY (Linux TIOCSSERIAL; on FTDI adapters it drops the 16 ms
   * latency timer to 1 ms). Default true. Devices without it (a PTY answers ENOTTY, CDC-ACM may
   * refuse) keep working without it; `lowLatency` says what the driver reports afterwards.
   */
  lowLatency?: boolean;
  /** Write buffer high-water mark in bytes; default 16 KiB. */
  highWaterMark?: number;
  /** Told why low-latency mode could not be set; default silent. */
  onNotice?: (message: string) => void;
}

/** ms close() waits for written bytes to reach the device before closing the port. */
const CLOSE_DRAIN_MS = 50;

export class SerialPortTransport extends EventEmitter<TransportEvents> implements Transport {
  readonly path: string;
  readonly baudRate: number;
  /** Whether the driver reports low-latency mode on, once open; null when it cannot tell. */
  lowLatency: boolean | null = null;
  private port: SerialPort | null = null;
  private reader: TtyReader | null = null;
  private readonly opts: SerialPortTransportOptions;

  constructor(path: string, baudRate: number, opts: SerialPortTransportOptions = {}) {
    super();
    this.path = path;
    this.baudRate = baudRate;
    this.opts = opts;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** The binding's descriptor (bindings-cpp keeps it as `fd` on the open port; O_NONBLOCK). */
  get fd(): number | null {
    const fd = (this.port?.port as { fd?: unknown } | undefined)?.fd;
    return this.port?.isOpen === true && typeof fd === 'number' && fd >= 0 ? fd : null;
  }

  get bufferedBytes(): number {
    return this.port?.writableLength ?? 0;
  }

  async open(): Promise<void> {
    if (this.port) throw new Error(`${this.path}: already opened`);
    const port = new SerialPort({
      path: this.path, baudRate: this.baudRate, autoOpen: false,
      dataBits: 8, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false,
      highWaterMark: this.opts.highWaterMark ?? 16 * 1024,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    let reader: TtyReader;
    try {
      reader = new TtyReader(this.path, {
        onData: (bytes) => this.emit('data', bytes),
        // End of input or a read error: the device went away (a hung-up line reads as EOF).
        onGone: (error) => this.gone(port, error),
      });
    } catch (err) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
      throw new Error(`${this.path}: cannot open for reading: ${(err as Error).message}`);
    }
    this.port = port;
    this.reader = reader;
    // A write error is followed by 'close' when the device went away; on its own it only means
    // bytes were lost, which the protocol's sequence numbers and timeouts already cover.
    port.on('error', (err: Error) => this.opts.onNotice?.(`${this.path}: ${err.message}`));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return; // closed by close() or gone(): no second event
      this.port = null;
      this.reader?.close();
      this.reader = null;
      this.emit('close', err ? { disconnected: err.disconnected === true, error: err } : { disconnected: false });
    });
    if (this.opts.lowLatency ?? true) await this.enableLowLatency(port);
  }

  /**
   * bindings-cpp sets ASYNC_LOW_LATENCY inside set() (after TIOCMSET of the modem lines), but does
   * not report a failure of the TIOCSSERIAL itself; so ask get() what the driver says afterwards.
   * On a PTY both ioctls answer ENOTTY: tolerated. DTR/RTS stay asserted as after open.
   */
  private async enableLowLatency(port: SerialPort): Promise<void> {
    // lowLatency is a LinuxSetOptions field; passed as a variable since SetOptions does not name it.
    const set = { lowLatency: true, dtr: true, rts: true };
    try {
      await new Promise<void>((resolve, reject) => port.set(set, (err) => (err ? reject(err) : resolve())));
      const status = await new Promise<object>((resolve, reject) =>
        port.get((err, s) => (err || !s ? reject(err ?? new Error('no status')) : resolve(s))));
      // The Linux binding adds lowLatency to the modem status.
      const ll = (status as { lowLatency?: unknown }).lowLatency;
      this.lowLatency = typeof ll === 'boolean' ? ll : null;
      if (this.lowLatency === false) this.opts.onNotice?.(`${this.path}: driver kept low-latency mode off`);
    } catch (err) {
      this.lowLatency = null;
      this.opts.onNotice?.(`${this.path}: low-latency mode unavailable (${(err as Error).message})`);
    }
  }

  /** The reader saw the device go: release the port and say so once (disconnected). */
  private gone(port: SerialPort, error: Error): void {
    if (this.port !== port) return;
    this.port = null;
    this.reader = null;
    if (port.isOpen) port.close(() => {});
    this.emit('close', { disconnected: true, error });
  }

  write(bytes: Uint8Array): boolean {
    const port = this.port;
    if (!port?.isOpen) return false;
    return port.write(bytes);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.reader?.close();
    this.reader = null;
    if (!port?.isOpen) return;
    // What was written last (the link's ESTOP before it closes) goes out first: drain, bounded, so
    // a stuck device cannot hold the close up.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, CLOSE_DRAIN_MS);
      port.drain(() => { clearTimeout(t); resolve(); });
    });
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
