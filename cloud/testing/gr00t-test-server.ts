/**
 * An Isaac GR00T policy server for tests, as PolicyServer.run in gr00t/policy/server_client.py
 * (commit 38624df) behaves: a ZeroMQ REP socket; each request msgpack {"endpoint", "data",
 * "api_token"}; arrays as {"__ndarray_class__": True, "as_npy": .npy bytes}; a wrong token answers
 * {"error": "Unauthorized: Invalid API token"}; a failing handler answers {"error": str(e)};
 * "ping" answers {"status": "ok", "message": "Server is running"}; "get_action" calls the policy
 * with data["observation"] and answers [action, info]; "reset" answers {}. `api: "n1.5"` answers
 * get_action with the action map itself and hands the policy the flat data (gr00t/eval/service.py).
 * Binds 127.0.0.1 on an ephemeral port; close() stops it. Test and benchmark code only.
 */
import { decode, encode } from '@msgpack/msgpack';
import { Reply } from 'zeromq';
import { fromWire, toWire } from '../backends/gr00t/gr00t-client.js';
import { float32Array, type NdArray } from '../backends/policy-server/ndarray.js';

export type Gr00tAnswer = { action: Record<string, NdArray | number[][]> } | { raise: string } | { hang: true };

export interface Gr00tTestServerOptions {
  api?: 'n1.5' | 'n1.6';
  apiToken?: string;
  policy: (observation: Record<string, unknown>) => Gr00tAnswer | Promise<Gr00tAnswer>;
  delayMs?: number | (() => number);
}

export class Gr00tTestServer {
  requests: { endpoint: string; data: unknown }[] = [];
  private sock: Reply;
  private stopped = false;
  private loop: Promise<void>;
  private address = '';

  private constructor(private readonly o: Gr00tTestServerOptions) {
    this.sock = new Reply({ linger: 0 });
    this.loop = Promise.resolve();
  }

  static async start(o: Gr00tTestServerOptions): Promise<Gr00tTestServer> {
    const s = new Gr00tTestServer(o);
    await s.sock.bind('tcp://127.0.0.1:*');
    s.address = s.sock.lastEndpoint ?? '';
    s.loop = s.serve(s.sock);
    return s;
  }

  get endpoint(): string {
    return this.address;
  }

  /** Closes the socket without answering the request it holds, and binds again on the same port
   * (a server that died mid-request and came back). */
  async restart(): Promise<void> {
    const old = this.sock;
    // Unbind first and wait for it: close() alone releases the port later, on ZeroMQ's I/O thread,
    // and binding the same port again could then fail with EADDRINUSE (seen on a loaded machine).
    await old.unbind(this.address);
    old.close();
    await this.loop;
    this.sock = new Reply({ linger: 0 });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sock.bind(this.address);
        break;
      } catch (e) {
        if (attempt >= 50 || (e as { code?: string }).code !== 'EADDRINUSE') throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.loop = this.serve(this.sock);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.sock.close();
    await this.loop;
  }

  private async serve(sock: Reply): Promise<void> {
    try {
      for await (const [msg] of sock) {
        const reply = await this.handle(msg as Buffer);
        if (reply === 'hang') return; // keep the request unanswered: the client's deadline passes
        await sock.send(encode(reply));
      }
    } catch {
      // closed
    }
    void this.stopped;
  }

  private async handle(msg: Buffer): Promise<unknown> {
    let req: Record<string, unknown>;
    try {
      req = decode(msg) as Record<string, unknown>;
    } catch (e) {
      return { error: (e as Error).message };
    }
    if (this.o.apiToken !== undefined && req['api_token'] !== this.o.apiToken) return { error: 'Unauthorized: Invalid API token' };
    const endpoint = typeof req['endpoint'] === 'string' ? req['endpoint'] : 'get_action';
    const data = fromWire(req['data'] ?? {});
    this.requests.push({ endpoint, data });
    if (endpoint === 'ping') return { status: 'ok', message: 'Server is running' };
    if (endpoint === 'reset') return {};
    if (endpoint !== 'get_action') return { error: `Unknown endpoint: ${endpoint}` };
    const v16 = (this.o.api ?? 'n1.6') === 'n1.6';
    const obs = v16 ? (data as Record<string, unknown>)['observation'] : data;
    if (typeof obs !== 'object' || obs === null) return { error: "get_action() missing 1 required positional argument: 'observation'" };
    const answer = await this.o.policy(obs as Record<string, unknown>);
    const d = typeof this.o.delayMs === 'function' ? this.o.delayMs() : this.o.delayMs ?? 0;
    if (d > 0) await new Promise((r) => setTimeout(r, d));
    if ('hang' in answer) return 'hang';
    if ('raise' in answer) return { error: answer.raise };
    const action: Record<string, NdArray> = {};
    for (const [k, a] of Object.entries(answer.action)) {
      const nd = Array.isArray(a) ? float32Array(a.flat(), [a.length, a[0]?.length ?? 0]) : a;
      action[k] = v16 ? { ...nd, shape: [1, ...nd.shape] } : nd;
    }
    return toWire(v16 ? [action, {}] : action);
  }
}
