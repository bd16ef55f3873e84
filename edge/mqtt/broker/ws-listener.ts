/**
 * MQTT over WebSocket for the embedded broker: an HTTP server that upgrades requests on one path
 * and hands each WebSocket, as a byte stream, to the caller (aedes.handle). It carries bytes only:
 * authentication and ACLs stay with whoever consumes the stream, so they are the TCP listener's.
 * With `tls` it is an HTTPS server, so browsers connect with wss://.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { MqttLogger } from '../ports.js';

export interface WsListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The only path upgraded, e.g. '/mqtt'; anything else is answered 404. */
  path: string;
  logger: MqttLogger;
  /** PEM certificate (chain) and key: serve wss:// instead of ws://. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  onStream(stream: Duplex, req: IncomingMessage): void;
}

/** Subprotocols a client may ask for: 'mqtt' (MQTT 3.1.1 and 5) and 'mqttv3.1' (mqtt.js with protocolVersion 3). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;

/** `ws://host:port/path` (`wss://` when `secure`), with an IPv6 host bracketed. */
export function wsUrlOf(host: string, port: number, path: string, secure = false): string {
  return `${secure ? 'wss' : 'ws'}://${isIPv6(host) ? `[${host}]` : host}:${port}${path}`;
}

export class WsListener {
  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly host: string,
    /** The port bound at start (still readable after close()). */
    readonly port: number,
    readonly path: string,
    readonly secure: boolean,
  ) {}

  get url(): string {
    return wsUrlOf(this.host, this.port, this.path, this.secure);
  }

  static async start(opts: WsListenerOptions): Promise<WsListener> {
    if (!opts.path.startsWith('/')) throw new RangeError(`WebSocket path ${JSON.stringify(opts.path)} must start with "/"`);
    const { logger } = opts;
    // Plain HTTP (no upgrade) is never served: the listener exists for MQTT only.
    const answer = (req: IncomingMessage, res: ServerResponse): void => {
      const known = pathOf(req) === opts.path;
      res.writeHead(known ? 426 : 404, { 'content-type': 'text/plain', connection: 'close', ...(known ? { upgrade: 'websocket' } : {}) });
      res.end(known ? 'MQTT over WebSocket only\n' : 'not found\n');
    };
    const http: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, noDelay: true }, answer) : createServer({ noDelay: true }, answer);
    // perMessageDeflate stays off (ws's server default): compressing tiny e-stop packets only adds latency.
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const path = pathOf(req);
      if (path !== opts.path) {
        logger.warn({ path: path.slice(0, 200), expected: opts.path, remote: req.socket.remoteAddress }, 'MQTT WebSocket upgrade refused: unknown path');
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      // The e-stop is latency-bound: no Nagle under the WebSocket. ws 8 sets it as well; this does
      // not depend on that.
      req.socket.setNoDelay(true);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        coalesceWrites(stream, ws);
        // The consumer (aedes) owns errors once it has the stream; this one covers the gap before.
        stream.on('error', (err: Error) => logger.debug({ err: err.message }, 'MQTT WebSocket stream error'));
        opts.onStream(stream, req);
      });
    });
    http.on('clientError', (err: Error, socket: Duplex) => {
      logger.debug({ err: err.message }, 'MQTT WebSocket: malformed HTTP request');
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(opts.port, opts.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (err: Error) => logger.error({ err: err.message }, 'MQTT WebSocket listener error'));
    return new WsListener(http, wss, opts.host, (http.address() as AddressInfo).port, opts.path, opts.tls !== undefined);
  }

  /** Stops accepting and drops every WebSocket and HTTP connection; resolves once the port is free. */
  async close(): Promise<void> {
    // ws 8 does not end its clients on close() (nor does a noServer instance own a port): terminate them.
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Requests still reading headers or idle keep-alives would hold close() open.
    this.http.closeAllConnections();
    await closed;
  }
}

/**
 * One WebSocket message for everything written to `stream` while it was corked, instead of one
 * per write. mqtt-packet writes a PUBLISH as four or five pieces (header, length, topic, payload)
 * inside a cork that ends on the next tick, and ws's stream sends each piece as its own message:
 * measured, 100 publishes reached a browser as 500 WebSocket messages, and each costs the page's
 * worker a task (the dashboard under 1000 robots' briefs). Packets written in the same tick now
 * travel together too. MQTT over WebSocket allows any split of the byte stream into messages.
 */
export function coalesceWrites(stream: Duplex, ws: { send(data: Buffer, cb: (err?: Error) => void): void }): void {
  (stream as Duplex & { _writev: (chunks: { chunk: Buffer | string }[], cb: (err?: Error | null) => void) => void })._writev = (chunks, cb) => {
    const bufs = chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk) : c.chunk));
    ws.send(bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs), (err) => cb(err ?? null));
  };
}

/** The request target without its query; compared verbatim (no normalisation to get around). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?', 1)[0] ?? '';
}
