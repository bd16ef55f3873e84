import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { openPty, type PtyPair } from './pty.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function openHost(p: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const sp = new SerialPort({ path: p, baudRate: 2_000_000 }, (err) => (err ? reject(err) : resolve(sp)));
  });
}
function closeHost(sp: SerialPort): Promise<void> {
  return new Promise((resolve) => (sp.isOpen ? sp.close(() => resolve()) : resolve()));
}
/** Resolves with the first `n` bytes delivered by `subscribe`. */
function collect(subscribe: (cb: (b: Buffer) => void) => void, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let len = 0;
    subscribe((b) => {
      parts.push(b);
      len += b.length;
      if (len >= n) resolve(Buffer.concat(parts).subarray(0, n));
    });
  });
}

describe('openPty', () => {
  const opened: PtyPair[] = [];
  const hosts: SerialPort[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) await closeHost(h);
    for (const p of opened.splice(0)) p.close();
  });

  it('passes all 256 byte values both ways through serialport', async () => {
    const pty = openPty();
    opened.push(pty);
    const host = await openHost(pty.ttyPath);
    hosts.push(host);

    const fromHost = collect((cb) => pty.onData(cb), 256);
    host.write(ALL_BYTES);
    expect(Buffer.compare(await fromHost, ALL_BYTES)).toBe(0);

    const toHost = collect((cb) => host.on('data', cb), 256);
    expect(pty.write(ALL_BYTES)).toBe(256);
    expect(Buffer.compare(await toHost, ALL_BYTES)).toBe(0);
  });

  it('does not echo bytes written before the host opens, and survives host reopen', async () => {
    const pty = openPty();
    opened.push(pty);
    const echoed: Buffer[] = [];
    pty.onData((b) => echoed.push(b));
    // Written while nobody has the port open: serialport flushes them when it opens, as on a real
    // adapter, but they must never come back to the MCU side as an echo.
    pty.write(ALL_BYTES);
    await new Promise((r) => setTimeout(r, 50));
    expect(echoed).toHaveLength(0);

    for (let round = 0; round < 2; round++) {
      const host = await openHost(pty.ttyPath);
      const toHost = collect((cb) => host.on('data', cb), 4);
      pty.write(Buffer.from([1, 0, 13, 10]));
      expect([...(await toHost)]).toEqual([1, 0, 13, 10]);
      await closeHost(host);
    }
    expect(pty.closed).toBe(false);
  });

  it('reports a full queue as 0 bytes written instead of blocking', () => {
    const pty = openPty();
    opened.push(pty);
    const chunk = Buffer.alloc(4096, 0x55);
    let total = 0;
    let last = -1;
    for (let i = 0; i < 1000 && last !== 0; i++) {
      last = pty.write(chunk);
      total += last;
    }
    expect(last).toBe(0);
    expect(total).toBeGreaterThan(0);
  });

  it('close makes the host port close, and the stable link follows a new PTY', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spinal-pty-'));
    const link = path.join(dir, 'ttyROBOT');
    const first = openPty({ linkPath: link });
    opened.push(first);
    expect(first.ttyPath).toBe(link);
    expect(fs.readlinkSync(link)).toBe(first.slavePath);

    const host = await openHost(link);
    hosts.push(host);
    const hostClosed = new Promise<void>((resolve) => host.on('close', () => resolve()));
    host.on('error', () => undefined);
    // serialport notices a vanished device cleanly only while its read is parked in the poller
    // (after a read found no data). Closed while it is between reads, its next read() returns 0
    // (EOF on a hung-up tty) and serialport retries forever. So: receive a byte, let the line go
    // quiet, then unplug. VirtualRobot.unplug() does the same.
    const reading = collect((cb) => host.on('data', cb), 1);
    first.write(Buffer.from([0x7f]));
    await reading;
    await new Promise((r) => setTimeout(r, 30));
    first.close();
    await hostClosed;
    expect(fs.existsSync(link)).toBe(false);

    const second = openPty({ linkPath: link });
    opened.push(second);
    expect(fs.readlinkSync(link)).toBe(second.slavePath);
    const host2 = await openHost(link);
    hosts.push(host2);
    const got = collect((cb) => host2.on('data', cb), 3);
    second.write(Buffer.from([0xaa, 0x00, 0xbb]));
    expect([...(await got)]).toEqual([0xaa, 0x00, 0xbb]);
    second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
