/**
 * Smoke test of SerialPortTransport on a real pseudo-terminal (a faithful serial device, see
 * shared NOTES): raw bytes both ways, low-latency request tolerated, clean close.
 */
import { readdirSync, write as fsWrite } from 'node:fs';
import type { ReadStream } from 'node:tty';
import { describe, expect, it } from 'vitest';
import { SerialPortTransport } from './serialport-transport.js';

/** The private fields of @lydell/node-pty's open({ encoding: null }) this test relies on. */
interface PtyPair {
  _pty: string;
  _fd: number;
  _master: ReadStream;
  _slave: ReadStream;
}

async function openPty(): Promise<PtyPair> {
  const mod = (await import('@lydell/node-pty')) as unknown as { open(o: { encoding: null }): PtyPair };
  const p = mod.open({ encoding: null });
  // node-pty rethrows master stream errors (EIO when the slave closes) unless someone else listens.
  p._master.on('error', () => {});
  return p;
}

function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (pred()) resolve();
      else if (Date.now() > end) reject(new Error('timed out'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('SerialPortTransport on a PTY', () => {
  it('passes all 256 byte values both ways and closes deliberately', async () => {
    const pty = await openPty();
    const notices: string[] = [];
    const t = new SerialPortTransport(pty._pty, 115200, { onNotice: (m) => notices.push(m) });
    const closes: unknown[] = [];
    t.on('close', (info) => closes.push(info));
    try {
      await t.open();
      // node-pty's own reader on the slave would steal our bytes.
      pty._slave.destroy();
      expect(t.isOpen).toBe(true);
      expect(t.lowLatency).not.toBe(true); // a PTY has no ASYNC_LOW_LATENCY; tolerated, not fatal

      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const got: number[] = [];
      t.on('data', (chunk) => got.push(...chunk));
      await new Promise<void>((resolve, reject) => fsWrite(pty._fd, all, (err) => (err ? reject(err) : resolve())));
      await until(() => got.length >= 256);
      expect(Uint8Array.from(got)).toEqual(all);

      const back: number[] = [];
      pty._master.on('data', (chunk: Buffer) => back.push(...chunk));
      expect(t.write(all)).toBe(true);
      await until(() => back.length >= 256);
      expect(Uint8Array.from(back)).toEqual(all);

      await t.close();
      expect(t.isOpen).toBe(false);
      expect(t.write(all)).toBe(false);
      expect(closes).toEqual([]); // a deliberate close emits no 'close' event
      await t.close();
    } finally {
      await t.close();
      pty._master.destroy();
    }
  });

  it('reports the device going away mid-stream as a disconnect, once, and releases both descriptors', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const pty = await openPty();
    pty._slave.destroy();
    const before = fds();
    const t = new SerialPortTransport(pty._pty, 115200);
    const closes: { disconnected: boolean; error?: Error }[] = [];
    t.on('close', (info) => closes.push(info));
    await t.open();
    expect(fds()).toBeGreaterThan(before); // serialport's descriptor and the reader's
    let got = 0;
    t.on('data', (chunk) => { got += chunk.length; });
    // Unplugged while bytes flow: the reader sees the hang-up at once (serialport's own stream
    // could miss it on a PTY and keep reading EOF).
    await new Promise<void>((resolve, reject) => fsWrite(pty._fd, new Uint8Array(64).fill(5), (err) => (err ? reject(err) : resolve())));
    await until(() => got > 0);
    pty._master.destroy();
    await until(() => closes.length > 0).catch(() => { throw new Error(`no close; got ${got}`); });
    expect(closes).toHaveLength(1);
    expect(closes[0]?.disconnected).toBe(true);
    expect(closes[0]?.error?.message).toMatch(pty._pty);
    expect(t.isOpen).toBe(false);
    expect(t.write(new Uint8Array([1]))).toBe(false);
    await until(() => fds() <= before - 1); // ours both closed, and the master the test destroyed
    await t.close();
    expect(closes).toHaveLength(1);
  });

  it('rejects open() for a device that does not exist', async () => {
    const t = new SerialPortTransport('/dev/does-not-exist-spinal', 115200);
    await expect(t.open()).rejects.toThrow(/does-not-exist-spinal/);
    expect(t.isOpen).toBe(false);
  });
});
