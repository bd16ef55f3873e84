/**
 * A pseudo-terminal pair standing in for a USB-serial device: the host opens the slave
 * (/dev/pts/N, or a stable symlink to it) with the real `serialport` library; the simulated MCU
 * reads and writes the master.
 *
 * This is the one module that touches @lydell/node-pty's private fields (`open({ encoding: null })`
 * returns `_pty` = slave path, `_master` = master read stream, `_fd` = master descriptor,
 * `_slave` = a reader on the slave). How they are used, and why:
 *
 * - `encoding: null`, or the master stream decodes bytes as UTF-8 and corrupts binary frames.
 * - The slave is put in raw mode before anything is written. A fresh PTY is cooked: ECHO would
 *   send our own output back to the master (the MCU would read its own STATE frames), ICRNL would
 *   rewrite 0x0D and ICANON would hold bytes until a newline. serialport sets raw mode again when
 *   it opens, but bytes written before that must not be mangled or echoed.
 * - node-pty's `_slave` reader is destroyed at once: it would steal the bytes meant for the host.
 * - Instead we hold a plain descriptor on the slave, never read, for the PTY's whole life. It is
 *   the slave descriptor openpty() returned, which node-pty never closes (libuv reopens the slave
 *   for its reader and leaves the original open): we find it in /proc/self/fd and adopt it, so
 *   close() releases it instead of leaking one descriptor per PTY. Reason for holding one:
 *   when no descriptor of the slave is open, reads on the master fail with EIO and the master
 *   stream dies; with ours held, the host may open, close and reopen the port any number of
 *   times, exactly like a real USB-serial adapter that stays plugged in. Bytes written while the
 *   host has the port closed wait in the slave's input queue (about 18 KiB, then the master write
 *   reports EAGAIN); serialport flushes that queue (tcflush TCIOFLUSH) when it opens, as a real
 *   adapter's stale bytes are lost too, so the host never reads stale frames.
 * - Writes go straight to the master descriptor, which node-pty opened O_NONBLOCK: `write` never
 *   blocks and reports how many bytes the kernel took (0 when full). Being synchronous, it copies
 *   the caller's buffer before returning, so the caller may reuse it immediately.
 * - `readWaiting()` reads the same descriptor synchronously (non-blocking) besides the master
 *   stream, so the loop can take what waits before it replays time it missed (virtual-robot.ts).
 * - `close()` closes the master: the host's port sees an error/close, as on an unplugged cable.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** The private shape of what `@lydell/node-pty`'s `open()` returns, as far as we rely on it. */
interface NodePtyOpened {
  _pty: string;
  _fd: number;
  _master: Readable & { destroy(): void };
  _slave: Readable & { setRawMode(mode: boolean): unknown; destroy(): void; _handle?: { fd?: number } };
}
interface NodePtyModule {
  open(opts: { encoding: null; cols?: number; rows?: number }): NodePtyOpened;
}

const require = createRequire(import.meta.url);
// open() is not in the package's typings; the shape above is checked by pty.test.ts.
const nodePty = require('@lydell/node-pty') as NodePtyModule;

export interface PtyOptions {
  /**
   * Stable path for the host, like a udev symlink: it is pointed at this PTY's slave atomically
   * (symlink + rename) on open and removed on close if it still points here.
   */
  linkPath?: string;
}

export interface PtyPair {
  /** The slave device, /dev/pts/N. */
  readonly slavePath: string;
  /** What the host should open: linkPath when given, else slavePath. */
  readonly ttyPath: string;
  readonly closed: boolean;
  /** Bytes the host wrote. Chunks are fresh Buffers; one listener. */
  onData(cb: (chunk: Buffer) => void): void;
  /**
   * Non-blocking synchronous read of the bytes the host has written and nobody has read yet, into
   * `into`; returns how many were read (0 when none wait, or after close). The loop uses it to take
   * input that waits while its own process was descheduled before it replays the missed time.
   * Bytes read here never reach onData; order is kept because both run on the one JS thread.
   */
  readWaiting(into: Uint8Array): number;
  /**
   * Non-blocking write of bytes[offset, offset + length) to the host. Returns the number of bytes
   * the kernel accepted (0 when its queue is full, or after close); the caller keeps the rest.
   */
  write(bytes: Uint8Array, offset?: number, length?: number): number;
  /** Closes the master (the host sees the device vanish) and removes the symlink. Idempotent. */
  close(): void;
}

let linkSerial = 0;

/** Points `linkPath` at `target` atomically: a reader sees the old link or the new, never none. */
export function updateSymlink(linkPath: string, target: string): void {
  const tmp = path.join(path.dirname(linkPath), `.${path.basename(linkPath)}.${process.pid}.${linkSerial++}.tmp`);
  fs.symlinkSync(target, tmp);
  try {
    fs.renameSync(tmp, linkPath);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function removeSymlinkIfOurs(linkPath: string, target: string): void {
  try {
    if (fs.readlinkSync(linkPath) === target) fs.unlinkSync(linkPath);
  } catch {
    // Already gone or replaced by a newer PTY: nothing of ours to remove.
  }
}

/**
 * The descriptor openpty() returned for the slave, which node-pty leaves open and unowned; null
 * where /proc is not available. Called synchronously right after open: the slave's number is new,
 * so the only descriptors naming it are that one and the reader's (`readerFd`, excluded).
 */
function adoptOrphanSlaveFd(slavePath: string, readerFd: number | undefined): number | null {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  for (const e of entries) {
    const fd = Number(e);
    if (fd === readerFd) continue;
    try {
      if (fs.readlinkSync(`/proc/self/fd/${e}`) === slavePath) return fd;
    } catch {
      // The readdir descriptor itself, or one closed meanwhile.
    }
  }
  return null;
}

export function openPty(opts: PtyOptions = {}): PtyPair {
  const t = nodePty.open({ encoding: null });
  const slavePath = t._pty;
  const masterFd = t._fd;
  const master = t._master;
  // Raw first (termios belong to the tty, not to a descriptor, so this outlives the reader).
  t._slave.setRawMode(true);
  // Hold the slave open without reading it (see the module comment), then drop the thief.
  const heldSlaveFd = adoptOrphanSlaveFd(slavePath, t._slave._handle?.fd)
    ?? fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  t._slave.destroy();
  // node-pty's own error listener rethrows unless a second listener exists; ours keeps errors
  // (EIO after close) from becoming uncaught exceptions. Errors end the PTY like a close.
  master.on('error', () => close());
  if (opts.linkPath !== undefined) updateSymlink(opts.linkPath, slavePath);

  let closed = false;
  let dataCb: ((chunk: Buffer) => void) | null = null;
  master.on('data', (chunk: Buffer) => {
    if (!closed && dataCb) dataCb(chunk);
  });

  function close(): void {
    if (closed) return;
    closed = true;
    if (opts.linkPath !== undefined) removeSymlinkIfOurs(opts.linkPath, slavePath);
    master.destroy();
    try {
      fs.closeSync(heldSlaveFd);
    } catch {
      // Already closed: nothing to release.
    }
  }

  return {
    slavePath,
    ttyPath: opts.linkPath ?? slavePath,
    get closed() {
      return closed;
    },
    onData(cb) {
      dataCb = cb;
    },
    readWaiting(into) {
      if (closed || into.length === 0) return 0;
      try {
        return fs.readSync(masterFd, into, 0, into.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 0;
        // EIO/EBADF: the PTY is gone; the master stream reports it and closes.
        return 0;
      }
    },
    write(bytes, offset = 0, length = bytes.length - offset) {
      if (closed || length <= 0) return 0;
      try {
        return fs.writeSync(masterFd, bytes, offset, length);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 0;
        // EIO/EBADF: the PTY is gone underneath us; report it as closed from now on.
        close();
        return 0;
      }
    },
    close,
  };
}
