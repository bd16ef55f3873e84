/**
 * An openpi policy server for tests, speaking the protocol of openpi's
 * src/openpi/serving/websocket_policy_server.py (commit 04a8d0c): GET /healthz answers 200 "OK";
 * a WebSocket connection gets the metadata map first; each binary message is an observation, each
 * reply {"actions": array, "server_timing": {"infer_ms", "prev_total_ms" from the second}}; a
 * policy failure sends the traceback as text and closes with 1011. Arrays are read the way
 * msgpack_numpy.unpack_array reads them: only a map with the BIN key b"__ndarray__" is an array
 * (a client that writes str keys hands the policy a plain map, as with the real server).
 * Listens on 127.0.0.1, an ephemeral port; close() stops it. Test and benchmark code only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Decoder } from '@msgpack/msgpack';
import { WebSocketServer, type WebSocket } from 'ws';
import { float32Array, toFloat64, type NdArray } from '../backends/policy-server/ndarray.js';
import { packOpenpi, type PackValue } from '../backends/openpi/openpi-msgpack.js';

/** What the policy sees: arrays as NdArray, everything else as decoded. */
export type TestObs = Record<string, unknown>;

export type TestPolicyAnswer =
  | { actions: number[][] | NdArray; extra?: Record<string, PackValue> }
  | { fail: string }
  | { disconnect: true };

export interface OpenpiTestServerOptions {
  metadata?: Record<string, PackValue>;
  policy: (obs: TestObs) => TestPolicyAnswer | Promise<TestPolicyAnswer>;
  /** Delay before each reply, ms (a slow model). */
  delayMs?: number | (() => number);
}

// Python's view: bin keys stay distinct from str keys ("b'__ndarray__'" stands for b"__ndarray__").
const pyDecoder = new Decoder({
  mapKeyConverter: (k: unknown) => (k instanceof Uint8Array ? `b'${Buffer.from(k).toString('latin1')}'` : (k as string | number)),
});

function pyRevive(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(pyRevive);
  const o = v as Record<string, unknown>;
  if ("b'__ndarray__'" in o) {
    return { dtype: String(o["b'dtype'"]), shape: (o["b'shape'"] as number[]).map(Number), data: o["b'data'"] as Uint8Array } satisfies NdArray;
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, pyRevive(x)]));
}

export class OpenpiTestServer {
  requests = 0;
  connections = 0;
  readonly received: TestObs[] = [];
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();

  private constructor(private readonly http: Server, private readonly o: OpenpiTestServerOptions) {
    this.wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 256 << 20 });
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  static async start(o: OpenpiTestServerOptions): Promise<OpenpiTestServer> {
    const http = createServer((req, res) => {
      if (req.url === '/healthz') { res.writeHead(200); res.end('OK\n'); return; }
      res.writeHead(426); res.end();
    });
    const s = new OpenpiTestServer(http, o);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Drops every open connection (the server keeps listening). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    this.connections++;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(packOpenpi(this.o.metadata ?? {}), { binary: true });
    let prevTotalMs: number | null = null;
    let chain = Promise.resolve();
    ws.on('message', (data: Buffer) => {
      // One at a time, in order, like the server's receive loop.
      chain = chain.then(async () => {
        const start = performance.now();
        this.requests++;
        const obs = pyRevive(pyDecoder.decode(data)) as TestObs;
        this.received.push(obs);
        const t0 = performance.now();
        const answer = await this.o.policy(obs);
        const d = typeof this.o.delayMs === 'function' ? this.o.delayMs() : this.o.delayMs ?? 0;
        if (d > 0) await new Promise((r) => setTimeout(r, d));
        const inferMs = performance.now() - t0;
        if ('disconnect' in answer) { ws.terminate(); return; }
        if ('fail' in answer) {
          ws.send(`Traceback (most recent call last):\n  File "policy.py", line 1, in infer\nValueError: ${answer.fail}\n`);
          ws.close(1011, 'Internal server error. Traceback included in previous frame.');
          return;
        }
        const a = answer.actions;
        const actions = Array.isArray(a) ? float32Array(a.flat(), [a.length, a[0]?.length ?? 0]) : a;
        const timing: Record<string, PackValue> = { infer_ms: inferMs };
        if (prevTotalMs !== null) timing['prev_total_ms'] = prevTotalMs;
        ws.send(packOpenpi({ actions, server_timing: timing, ...answer.extra }), { binary: true });
        prevTotalMs = performance.now() - start;
      });
    });
  }
}

/** The float values of an array the client sent (state, images). */
export function obsValues(obs: TestObs, key: string): Float64Array {
  return toFloat64(obs[key] as NdArray);
}

/**
 * A policy that moves from the observed state towards `goal`, at most `maxStepRad` per row per
 * joint, `rows` rows: what a trained policy's chunk looks like to the edge.
 */
export function goalSeeking(goal: readonly number[], rows: number, maxStepRad: number, stateKey = 'state'): (obs: TestObs) => TestPolicyAnswer {
  return (obs) => {
    const s = Array.from(obsValues(obs, stateKey));
    const out: number[][] = [];
    const q = [...s];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < q.length; j++) {
        const d = (goal[j] as number) - (q[j] as number);
        q[j] = (q[j] as number) + Math.sign(d) * Math.min(Math.abs(d), maxStepRad);
      }
      out.push([...q]);
    }
    return { actions: out };
  };
}
