/**
 * McapWriter's output as a file written synchronously (the recorder's thread has nothing else to
 * do meanwhile). Each large write (a chunk, the summary) is synced to the disk before the next,
 * so what a crash can lose is the chunk still being built in memory.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';

const SYNC_FROM_BYTES = 4096;

export class McapFileSink {
  bytes = 0;
  private pos = 0n;
  private fd: number | null;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Creates `path`; refuses to overwrite an existing file. */
  static create(path: string): McapFileSink {
    return new McapFileSink(openSync(path, 'wx'));
  }

  write(buffer: Uint8Array): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.reject(new Error('MCAP sink already closed'));
    let off = 0;
    while (off < buffer.length) off += writeSync(fd, buffer, off, buffer.length - off);
    this.pos += BigInt(buffer.length);
    this.bytes += buffer.length;
    if (buffer.length >= SYNC_FROM_BYTES) fdatasyncSync(fd);
    return Promise.resolve();
  }

  position(): bigint {
    return this.pos;
  }

  sync(): void {
    if (this.fd !== null) fdatasyncSync(this.fd);
  }

  /** Idempotent. */
  close(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) closeSync(fd);
  }
}
