/**
 * The live view: the daemon's recorded channels served over the Foxglove WebSocket protocol
 * (subprotocol foxglove.websocket.v1), so Foxglove shows a running robot with the same topics and
 * JSON schemas as its MCAP recordings (proto/recording/channels.ts). It is a RecordingSink on the
 * daemon's RecordingBus.
 *
 * Invariants:
 * - `publish` never blocks and never throws: a message for a channel no client subscribes to costs
 *   one set lookup (no JSON is built); a subscribed one is encoded once and queued per client,
 *   and a client whose queue holds `maxBufferedBytes` loses the message (counted, per client and
 *   in total) instead of growing the daemon's memory (bounded-socket.ts).
 * - At most `maxClients` clients; one more is closed at once with code 1013 and the reason.
 * - Listens on a loopback address unless `allowNonLoopback` is set: the stream is plaintext and
 *   unauthenticated (it shows everything the robot does), so the remote way in is an ssh tunnel.
 */
import foxgloveWs from '@foxglove/ws-protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { isLoopbackHost } from '../../proto/security/loopback.js';
import { CAMERA_SCHEMA_NAME, Topic, schemaFor, type RecordingSink } from '../../proto/recording/channels.js';
import { BoundedSocket } from './bounded-socket.js';

// The package is CommonJS: Node's ESM loader sees its classes on the default export only.
const { FoxgloveServer } = foxgloveWs;
type FoxgloveServer = InstanceType<typeof FoxgloveServer>;

export const FOXGLOVE_SUBPROTOCOL = 'foxglove.websocket.v1';

export interface LiveViewOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0: any free port. */
  port: number;
  /** Default 4. */
  maxClients?: number;
  /** Per client; default 1 MiB. */
  maxBufferedBytes?: number;
  /** Listen on an address that is not loopback (plaintext, no login): only on a network you trust. */
  allowNonLoopback?: boolean;
  /** Shown by Foxglove as the server's name. */
  name: string;
  /** Sent to clients in serverInfo (robot id, profile, …). */
  metadata?: Record<string, string>;
}

export interface LiveViewStats {
  clients: number;
  /** Message-data frames queued to clients, over all clients since start. */
  sent: number;
  /** Message-data frames dropped for slow clients, since start (clients gone included). */
  dropped: number;
  /** Connections closed at once: beyond maxClients, or without the Foxglove subprotocol. */
  refused: number;
  /** Messages that could not be encoded (not JSON-serialisable), since start. */
  encodeErrors: number;
}

export class LiveViewConfigError extends Error {
  override readonly name = 'LiveViewConfigError';
}

/** Null when the live view may listen on `host`, else why not (naming the host and the remedy). */
export function liveViewHostRefusal(host: string, allowNonLoopback: boolean): string | null {
  if (allowNonLoopback || isLoopbackHost(host)) return null;
  return `liveView.host ${JSON.stringify(host)} is not a loopback address: the live view is plaintext and has no login, ` +
    'so it listens on 127.0.0.1 or ::1 (reach it from elsewhere through an ssh tunnel), or set liveView.allowNonLoopback to true on a network you trust';
}

export class LiveViewServer implements RecordingSink {
  private readonly fox: FoxgloveServer;
  private readonly channels = new Map<string, number>();
  /** Channel ids with at least one subscriber (the server's subscribe/unsubscribe events). */
  private readonly subscribed = new Set<number>();
  private readonly sockets = new Set<BoundedSocket>();
  private readonly encoder = new TextEncoder();
  private droppedGone = 0;
  private sentGone = 0;
  private refused = 0;
  private encodeErrors = 0;
  private closed = false;

  private constructor(private readonly wss: WebSocketServer, opts: LiveViewOptions) {
    this.fox = new FoxgloveServer({ name: opts.name, capabilities: [], supportedEncodings: ['json'], ...(opts.metadata ? { metadata: opts.metadata } : {}) });
    this.fox.on('subscribe', (id) => this.subscribed.add(id));
    this.fox.on('unsubscribe', (id) => this.subscribed.delete(id));
    // A malformed client message is the client's problem; the server goes on.
    this.fox.on('error', () => undefined);
    for (const topic of Object.values(Topic)) this.channelFor(topic);
    const maxClients = opts.maxClients ?? 4;
    const maxBufferedBytes = opts.maxBufferedBytes ?? 1 << 20;
    wss.on('connection', (ws: WebSocket, req) => {
      if (ws.protocol !== FOXGLOVE_SUBPROTOCOL) {
        this.refused++;
        ws.close(1002, `the live view speaks ${FOXGLOVE_SUBPROTOCOL} only`);
        return;
      }
      if (this.sockets.size >= maxClients || this.closed) {
        this.refused++;
        ws.close(1013, `live view full: at most ${maxClients} clients`);
        return;
      }
      const socket = new BoundedSocket(ws, maxBufferedBytes);
      this.sockets.add(socket);
      ws.once('close', () => {
        this.sockets.delete(socket);
        this.droppedGone += socket.dropped;
        this.sentGone += socket.sent;
      });
      this.fox.handleConnection(socket, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`);
    });
  }

  /** Starts listening; refuses a host that is not loopback unless allowed (LiveViewConfigError). */
  static async start(opts: LiveViewOptions): Promise<LiveViewServer> {
    const host = opts.host ?? '127.0.0.1';
    const why = liveViewHostRefusal(host, opts.allowNonLoopback === true);
    if (why !== null) throw new LiveViewConfigError(why);
    const wss = new WebSocketServer({
      host, port: opts.port, perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(FOXGLOVE_SUBPROTOCOL) ? FOXGLOVE_SUBPROTOCOL : false),
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', (e) => reject(new LiveViewConfigError(`live view cannot listen on ${host}:${opts.port}: ${e.message}`)));
    });
    return new LiveViewServer(wss, opts);
  }

  get port(): number {
    const a = this.wss.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get url(): string {
    const a = this.wss.address();
    if (typeof a !== 'object' || a === null) return '';
    return `ws://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  stats(): LiveViewStats {
    let sent = this.sentGone;
    let dropped = this.droppedGone;
    for (const s of this.sockets) {
      sent += s.sent;
      dropped += s.dropped;
    }
    return { clients: this.sockets.size, sent, dropped, refused: this.refused, encodeErrors: this.encodeErrors };
  }

  /** True when no client subscribes to anything: the daemon need not build records for this view. */
  get idle(): boolean {
    return this.subscribed.size === 0;
  }

  /** True when some client subscribes to `topic` (a publisher may skip building its message). */
  wants(topic: string): boolean {
    const id = this.channels.get(topic);
    return id !== undefined && this.subscribed.has(id);
  }

  publish(topic: string, logTimeNs: bigint, message: object): void {
    if (this.closed) return;
    let id = this.channels.get(topic);
    if (id === undefined) {
      // A topic first seen now (a camera): advertised, so a client can subscribe to it from now on.
      try {
        id = this.channelFor(topic);
      } catch {
        this.encodeErrors++;
      }
      return;
    }
    if (!this.subscribed.has(id)) return;
    let payload: Uint8Array;
    try {
      payload = this.encoder.encode(JSON.stringify(message));
    } catch {
      this.encodeErrors++;
      return;
    }
    this.fox.sendMessage(id, logTimeNs, payload);
  }

  /** Closes every client and the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private channelFor(topic: string): number {
    const known = this.channels.get(topic);
    if (known !== undefined) return known;
    const s = topic.startsWith('/spinal/camera/') ? { name: CAMERA_SCHEMA_NAME, schema: { type: 'object' } } : schemaFor(topic);
    const id = this.fox.addChannel({ topic, encoding: 'json', schemaName: s.name, schema: JSON.stringify(s.schema), schemaEncoding: 'jsonschema' });
    this.channels.set(topic, id);
    return id;
  }
}
