/**
 * One ZeroMQ REQ socket to an Isaac GR00T policy server (PolicyServer in gr00t/policy/server_client.py,
 * BaseInferenceServer in gr00t/eval/service.py): each request is msgpack {"endpoint": name,
 * "data": ..., "api_token": token when set}; numpy arrays travel as {"__ndarray_class__": True,
 * "as_npy": <.npy bytes>}; a reply with an "error" key is the server's failure (also a wrong token).
 *
 * Invariant: REQ alternates send/receive, so one request at a time; a request that misses its
 * deadline leaves the socket waiting for a reply forever, so it is closed (as GR00T's own client
 * recreates its socket) and the owner reconnects.
 */
import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import { Request } from 'zeromq';
import { ndarrayProblem, type NdArray } from '../policy-server/ndarray.js';
import { PeerError } from '../policy-server/policy-server-backend.js';
import { decodeNpy, encodeNpy } from './npy.js';

export const GR00T_DEFAULT_PORT = 5555;

const isNd = (v: unknown): v is NdArray => typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && (v as NdArray).data instanceof Uint8Array;

/** NdArray values → GR00T's array maps, recursively. */
export function toWire(v: unknown): unknown {
  if (isNd(v)) return { __ndarray_class__: true, as_npy: encodeNpy(v) };
  if (Array.isArray(v)) return v.map(toWire);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  return v;
}

/** GR00T's array maps → NdArray, recursively; a bad array throws naming its path. */
export function fromWire(v: unknown, path = ''): unknown {
  if (Array.isArray(v)) return v.map((x, i) => fromWire(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  const o = v as Record<string, unknown>;
  if ('__ndarray_class__' in o) {
    const raw = o['as_npy'];
    const a = raw instanceof Uint8Array ? decodeNpy(raw) : 'as_npy is not bytes';
    const problem = typeof a === 'string' ? a : ndarrayProblem(a);
    if (problem !== null || typeof a === 'string') throw new PeerError(`gr00t reply ${path || 'value'}: ${problem ?? ''}`, 'bad-reply');
    return a;
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromWire(x, path === '' ? k : `${path}.${k}`)]));
}

const codec = new ExtensionCodec();

export class Gr00tConnection {
  private socket: Request | null;
  private busy = false;

  constructor(readonly address: string, private readonly token?: string) {
    this.socket = new Request({ linger: 0, sendHighWaterMark: 1, receiveHighWaterMark: 1 });
    this.socket.connect(address);
  }

  get open(): boolean {
    return this.socket !== null;
  }

  /** Calls `endpoint` (with `data` unless null); resolves with the decoded reply. */
  async call(endpoint: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const s = this.socket;
    if (s === null) throw new PeerError('the connection is closed', 'closed');
    if (this.busy) throw new PeerError('a request is already in flight on this connection', 'bad-reply');
    this.busy = true;
    const req: Record<string, unknown> = { endpoint };
    if (data !== null) req['data'] = toWire(data);
    if (this.token !== undefined) req['api_token'] = this.token;
    try {
      s.receiveTimeout = Math.max(1, Math.round(timeoutMs));
      s.sendTimeout = Math.max(1, Math.round(timeoutMs));
      await s.send(encode(req, { extensionCodec: codec }));
      const [msg] = await s.receive();
      let reply: unknown;
      try {
        reply = decode(msg as Buffer, { extensionCodec: codec });
      } catch (e) {
        throw new PeerError(`the gr00t server at ${this.address} sent a reply that is not msgpack: ${(e as Error).message}`, 'bad-reply');
      }
      if (reply !== null && typeof reply === 'object' && !Array.isArray(reply) && 'error' in reply) {
        throw new PeerError(`the gr00t server at ${this.address} failed: ${String((reply as { error: unknown }).error)}`, 'server-error');
      }
      return fromWire(reply);
    } catch (e) {
      if (e instanceof PeerError) throw e;
      const code = (e as { code?: string }).code;
      this.close();
      if (code === 'EAGAIN') throw new PeerError(`the gr00t server at ${this.address} did not answer within ${Math.round(timeoutMs)} ms`, 'timeout');
      throw new PeerError(`the gr00t server at ${this.address} failed the request: ${(e as Error).message}`, 'closed');
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    s?.close();
  }
}
