/**
 * Reads a serial device on the event loop itself, into one reused buffer.
 *
 * Why not serialport's own stream: on Linux it waits for readability with a poll handle and then
 * reads on libuv's thread pool, a fresh Buffer per read, through a Readable stream and the `debug`
 * module. At 1 kHz STATE that path cost the edge daemon about 8 % of a core and 2–4 MB/s of
 * garbage (measured with a PTY stand-in at 430 reads/s: 9–10 % of a core against 2–3 % here).
 * Here the descriptor is a libuv TTY stream (tty.ReadStream), read with read(2) on the loop
 * thread when epoll says so, straight into `buffer` (net.Socket's `onread` option): no thread
 * pool hop and no allocation per read.
 *
 * The reader opens its own descriptor on the device, after serialport has configured the line
 * (raw, CLOCAL, baud rate: termios belongs to the device, not to a descriptor), so the two never
 * share a descriptor and each closes only its own. libuv reopens a tty slave by name (without
 * O_NONBLOCK) for a private file description, which is why CLOCAL must already be set: a blocking
 * open would otherwise wait for carrier.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';

export interface TtyReaderEvents {
  /** `bytes` is a view of the reused buffer: valid only until the callback returns. */
  onData(bytes: Uint8Array): void;
  /** The device went away (end of input on a hung-up line, or a read error); called once. */
  onGone(error: Error): void;
}

export class TtyReader {
  private readonly stream: ReadStream;
  private closed = false;

  /** Opens `path` for reading and starts reading; throws when it cannot be opened as a tty. */
  constructor(readonly path: string, events: TtyReaderEvents, bufferBytes = 4096) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    const buffer = new Uint8Array(bufferBytes);
    // One view per read length, made on first use: a read of n bytes always hands out the same
    // object, so steady traffic (a frame per read) allocates nothing.
    const views: (Uint8Array | undefined)[] = [];
    const onread = {
      buffer,
      callback: (n: number): void => {
        if (this.closed || n <= 0) return;
        const v = views[n] ?? (views[n] = buffer.subarray(0, n));
        events.onData(v);
      },
    };
    let stream: ReadStream;
    try {
      // `onread` is net.Socket's option (tty.ReadStream is a net.Socket); its typings omit it here.
      stream = new ReadStream(fd, { onread } as ConstructorParameters<typeof ReadStream>[1]);
    } catch (err) {
      // ReadStream did not take the descriptor: close it here so it does not leak.
      closeSync(fd);
      throw err;
    }
    // libuv reopens a tty slave by name for a private file description and reads that one; the
    // descriptor we opened then only holds a duplicate, which nobody else would close.
    const handleFd = (stream as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
    if (typeof handleFd === 'number' && handleFd !== fd) closeSync(fd);
    this.stream = stream;
    const gone = (error: Error): void => {
      if (this.closed) return;
      this.closed = true;
      stream.destroy();
      events.onGone(error);
    };
    stream.on('end', () => gone(new Error(`${path}: end of input (the device hung up)`)));
    stream.on('error', (err: Error) => gone(err));
    stream.resume();
  }

  /** Stops reading and closes the descriptor; no callback after this. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
  }
}
