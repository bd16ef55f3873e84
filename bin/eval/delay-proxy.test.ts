/** The real-time eval's brain round trip: the proxy delivers every byte, in order, no sooner than the latency. */
import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DelayProxy } from './delay-proxy.js';

let echo: Server | null = null;
let proxy: DelayProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  proxy = null; echo = null;
});

describe('DelayProxy', () => {
  it('echoes through the proxy in order, each answer at least the injected round trip after its request', async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo?.listen(0, '127.0.0.1', () => r()));
    const addr = echo.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    proxy = await DelayProxy.start({ targetPort: addr.port, latencyMs: 60, jitterMs: 40, seed: 7 });
    const c = connect(proxy.port, '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    const got: Buffer[] = [];
    const sentAt: number[] = [];
    const firstAt: number[] = [];
    let received = 0;
    let allIn: () => void = () => undefined;
    const done = new Promise<void>((r) => (allIn = r));
    c.on('data', (b: Buffer) => {
      got.push(b);
      received += b.length;
      while (firstAt.length < sentAt.length && received >= (firstAt.length + 1) * 1000) firstAt.push(performance.now());
      if (received >= 5000) allIn();
    });
    for (let k = 0; k < 5; k++) {
      sentAt.push(performance.now());
      c.write(Buffer.alloc(1000, k));
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
    c.destroy();
    const all = Buffer.concat(got);
    for (let k = 0; k < 5; k++) expect(all.subarray(k * 1000, (k + 1) * 1000).every((x) => x === k), `chunk ${k} in place`).toBe(true);
    // Timers never fire early (1 ms for their rounding): the round trip is at least the latency.
    for (let k = 0; k < 5; k++) expect((firstAt[k] as number) - (sentAt[k] as number)).toBeGreaterThanOrEqual(59);
  });

  it('refuses a negative latency, naming it', async () => {
    await expect(DelayProxy.start({ targetPort: 1, latencyMs: -1, jitterMs: 0, seed: 1 })).rejects.toThrow(/latency -1 ms/);
  });
});
