/**
 * The brain's round trip in real time: a TCP proxy on loopback between the edge's cloud link and
 * the brain server that holds every chunk of bytes for half the injected latency, plus uniform
 * jitter, in each direction, keeping each direction's order (a chunk never leaves before the one
 * sent before it). Delaying the network rather than the backend keeps the brain's pipelining: an
 * observation answered late does not hold up the next one, as in the simulated brain (sim-brain.ts).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Rng } from '../../hardware/rng.js';

export interface DelayProxyOptions {
  /** The brain's port on 127.0.0.1. */
  targetPort: number;
  /** Round trip added, ms (half each way). */
  latencyMs: number;
  /** Uniform jitter added to the round trip, [0, jitterMs) (half each way). */
  jitterMs: number;
  seed: number;
}

export class DelayProxy {
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rng: Rng;

  private constructor(private readonly server: Server, readonly port: number, rng: Rng) {
    this.rng = rng;
  }

  static async start(o: DelayProxyOptions): Promise<DelayProxy> {
    if (!(o.latencyMs >= 0) || !(o.jitterMs >= 0)) throw new RangeError(`delay proxy: latency ${o.latencyMs} ms and jitter ${o.jitterMs} ms must be >= 0`);
    let self: DelayProxy | null = null;
    const server = createServer((client) => self?.pair(client, o));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('delay proxy: no TCP address');
    self = new DelayProxy(server, addr.port, new Rng(o.seed ^ 0x5eed));
    return self;
  }

  private pair(client: Socket, o: DelayProxyOptions): void {
    const upstream = connect(o.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    this.forward(client, upstream, o);
    this.forward(upstream, client, o);
  }

  /** Bytes from `from` reach `to` after half the round trip plus half a jitter draw, in order. */
  private forward(from: Socket, to: Socket, o: DelayProxyOptions): void {
    let lastDueMs = 0;
    from.on('data', (chunk: Buffer) => {
      const due = Math.max(lastDueMs, performance.now() + (o.latencyMs + this.rng.uniform() * o.jitterMs) / 2);
      lastDueMs = due;
      const t = setTimeout(() => { this.timers.delete(t); if (!to.destroyed) to.write(chunk); }, Math.max(0, due - performance.now()));
      this.timers.add(t);
    });
    from.on('end', () => {
      const t = setTimeout(() => { this.timers.delete(t); to.end(); }, Math.max(0, lastDueMs - performance.now()));
      this.timers.add(t);
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
