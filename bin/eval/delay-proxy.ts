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

  /**
   * Bytes from `from` reach `to` after half the round trip plus half a jitter draw, in order. One
   * queue and at most one timer per direction: separate timers per chunk could fire out of order,
   * since Node groups timers by duration and a later-armed, shorter one may run first.
   */
  private forward(from: Socket, to: Socket, o: DelayProxyOptions): void {
    const queue: Array<{ dueMs: number; chunk: Buffer | null }> = [];
    let armed: NodeJS.Timeout | null = null;
    const drain = (): void => {
      if (armed !== null) { this.timers.delete(armed); armed = null; }
      const now = performance.now();
      while (queue.length > 0 && (queue[0] as { dueMs: number }).dueMs <= now) {
        const { chunk } = queue.shift() as { dueMs: number; chunk: Buffer | null };
        if (to.destroyed) continue;
        if (chunk === null) to.end(); else to.write(chunk);
      }
      arm();
    };
    const arm = (): void => {
      const head = queue[0];
      if (armed !== null || head === undefined) return;
      // Timers may fire up to 1 ms early after rounding; drain re-arms until the head is due.
      armed = setTimeout(drain, Math.max(1, Math.ceil(head.dueMs - performance.now())));
      this.timers.add(armed);
    };
    const push = (chunk: Buffer | null, delayMs: number): void => {
      const last = queue[queue.length - 1];
      const due = Math.max(last?.dueMs ?? 0, performance.now() + delayMs);
      queue.push({ dueMs: due, chunk });
      arm();
    };
    from.on('data', (chunk: Buffer) => push(chunk, (o.latencyMs + this.rng.uniform() * o.jitterMs) / 2));
    from.on('end', () => push(null, 0));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
