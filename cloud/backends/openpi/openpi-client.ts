/**
 * One WebSocket connection to an openpi policy server (src/openpi/serving/websocket_policy_server.py):
 * the server sends its metadata (a msgpack map) as the first message; then each binary request is
 * a msgpack observation and each binary reply a msgpack map with "actions" and "server_timing". A
 * text message is the server's traceback after a failure (it then closes with 1011).
 *
 * Invariant: at most one request in flight. A request that misses its deadline closes the
 * connection: the late reply would otherwise answer the next request. The owner reconnects.
 */
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { packOpenpi, unpackOpenpi, type PackValue, type Unpacked } from './openpi-msgpack.js';

export class OpenpiError extends Error {
  override readonly name = 'OpenpiError';
  constructor(message: string, readonly kind: 'unreachable' | 'timeout' | 'closed' | 'server-error' | 'bad-reply') {
    super(message);
  }
}

export class OpenpiConnection {
  private pending: { resolve: (v: Unpacked) => void; reject: (e: OpenpiError) => void } | null = null;
  private closedWhy: string | null = null;

  private constructor(private readonly ws: WebSocket, readonly url: string, readonly metadata: Unpacked) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.fail(`the openpi server at ${url} closed the connection (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`, 'closed'));
    ws.on('error', (e: Error) => this.fail(`the connection to the openpi server at ${url} failed: ${e.message}`, 'closed'));
  }

  /** Opens a connection and waits for the server's metadata (its first message). */
  static connect(url: string, o: { timeoutMs: number; apiKey?: string }): Promise<OpenpiConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 << 20, handshakeTimeout: o.timeoutMs, ...(o.apiKey !== undefined ? { headers: { Authorization: `Api-Key ${o.apiKey}` } } : {}) });
      const timer = setTimeout(() => { ws.terminate(); reject(new OpenpiError(`the openpi server at ${url} sent no metadata within ${o.timeoutMs} ms`, 'timeout')); }, o.timeoutMs);
      const onError = (e: Error): void => { clearTimeout(timer); reject(new OpenpiError(`cannot reach the openpi server at ${url}: ${e.message}`, 'unreachable')); };
      ws.once('error', onError);
      ws.once('close', (code: number) => { clearTimeout(timer); reject(new OpenpiError(`the openpi server at ${url} closed the connection (${code}) before its metadata`, 'closed')); });
      ws.once('message', (data: Buffer, isBinary: boolean) => {
        clearTimeout(timer);
        ws.off('error', onError);
        ws.removeAllListeners('close');
        if (!isBinary) { ws.terminate(); reject(new OpenpiError(`the openpi server at ${url} sent text instead of its metadata: ${data.toString().slice(0, 200)}`, 'bad-reply')); return; }
        let meta: Unpacked;
        try {
          meta = unpackOpenpi(data);
        } catch (e) {
          ws.terminate();
          reject(new OpenpiError(`the openpi server at ${url} sent metadata that is not msgpack: ${(e as Error).message}`, 'bad-reply'));
          return;
        }
        resolve(new OpenpiConnection(ws, url, meta));
      });
    });
  }

  get open(): boolean {
    return this.closedWhy === null;
  }

  /** Sends one observation; resolves with the decoded reply. */
  infer(obs: PackValue, timeoutMs: number): Promise<Unpacked> {
    if (this.closedWhy !== null) return Promise.reject(new OpenpiError(this.closedWhy, 'closed'));
    if (this.pending !== null) return Promise.reject(new OpenpiError('a request is already in flight on this connection', 'bad-reply'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`the openpi server at ${this.url} did not answer within ${timeoutMs} ms`, 'timeout');
      }, timeoutMs);
      this.pending = {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.ws.send(packOpenpi(obs), { binary: true });
    });
  }

  close(): void {
    this.fail('closed by the brain', 'closed');
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) { this.fail(`the openpi server at ${this.url} sent a message nobody asked for`, 'bad-reply'); return; }
    if (!isBinary) { p.reject(new OpenpiError(`the openpi server at ${this.url} failed: ${data.toString().trim().split('\n').slice(-1)[0] ?? ''}`, 'server-error')); return; }
    try {
      p.resolve(unpackOpenpi(data));
    } catch (e) {
      p.reject(new OpenpiError(`the openpi server at ${this.url} sent a reply that does not decode: ${(e as Error).message}`, 'bad-reply'));
    }
  }

  private fail(why: string, kind: OpenpiError['kind']): void {
    if (this.closedWhy === null) {
      this.closedWhy = why;
      this.ws.terminate();
    }
    const p = this.pending;
    this.pending = null;
    p?.reject(new OpenpiError(why, kind));
  }
}

/** GET /healthz on the server's port: null when it answers 200, else why not. */
export function openpiHealth(url: string, timeoutMs: number): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = httpRequest({ host: u.hostname, port: u.port || 80, path: '/healthz', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `GET /healthz answered ${res.statusCode}`);
    });
    req.on('timeout', () => { req.destroy(); resolve(`GET /healthz did not answer within ${timeoutMs} ms`); });
    req.on('error', (e) => resolve(`GET /healthz failed: ${e.message}`));
    req.end();
  });
}
