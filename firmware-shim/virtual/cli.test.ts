import { SerialPort } from 'serialport';
import { describe, expect, it } from 'vitest';
import { runSim } from './cli.js';

describe('runSim', () => {
  it('prints the tty path first, status lines to stderr, and stops when told', async () => {
    const out: string[] = [];
    const err: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((r) => { stop = r; });
    const done = runSim({ profile: 'quadruped12', rate: 100, statusEveryMs: 100, until, out: (l) => out.push(l), err: (l) => err.push(l) });
    while (out.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(out[0]).toMatch(/^\/dev\/pts\/\d+$/);
    const port = await new Promise<SerialPort>((res, rej) => { const sp = new SerialPort({ path: out[0] as string, baudRate: 4_000_000 }, (e) => (e ? rej(e) : res(sp))); });
    const got = await new Promise<number>((res) => port.once('data', (b: Buffer) => res(b.length)));
    expect(got).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 250));
    await new Promise<void>((r) => port.close(() => r()));
    stop();
    await done;
    expect(err.some((l) => /^state \d+\.\d Hz/.test(l))).toBe(true);
  });
});
