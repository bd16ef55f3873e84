/**
 * A Foxglove WebSocket client for tests (FoxgloveClient over `ws`): connects, learns the advertised
 * channels, subscribes by topic and keeps every message it receives, decoded from JSON.
 */
import foxgloveWs, { type Channel, type IWebSocket } from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';

// The package is CommonJS: Node's ESM loader sees its classes on the default export only.
const { FoxgloveClient } = foxgloveWs;
type FoxgloveClient = InstanceType<typeof FoxgloveClient>;

export interface ReceivedMessage {
  topic: string;
  logTimeNs: bigint;
  message: Record<string, unknown>;
}

export class FoxgloveTestClient {
  readonly channels = new Map<string, Channel>();
  readonly received: ReceivedMessage[] = [];
  serverName: string | null = null;
  closed: { code: number; reason: string } | null = null;
  private readonly bySub = new Map<number, string>();
  private readonly client: FoxgloveClient;
  private readonly decoder = new TextDecoder();

  private constructor(readonly ws: WebSocket) {
    // ws's send() overloads take a callback where IWebSocket has options; FoxgloveClient passes none.
    this.client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
    this.client.on('serverInfo', (i) => { this.serverName = i.name; });
    this.client.on('advertise', (chs) => { for (const c of chs) this.channels.set(c.topic, c); });
    this.client.on('message', (m) => {
      const topic = this.bySub.get(m.subscriptionId) ?? '?';
      const bytes = new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      this.received.push({ topic, logTimeNs: m.timestamp, message: JSON.parse(this.decoder.decode(bytes)) as Record<string, unknown> });
    });
    ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString('utf8') }; });
  }

  /** Connects with the Foxglove subprotocol; resolves once the socket is open. */
  static async connect(url: string): Promise<FoxgloveTestClient> {
    const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const c = new FoxgloveTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  /** Subscribes to an advertised topic; throws naming it when it is not advertised. */
  subscribe(topic: string): number {
    const ch = this.channels.get(topic);
    if (!ch) throw new Error(`topic ${JSON.stringify(topic)} not advertised (have: ${[...this.channels.keys()].join(', ')})`);
    const id = this.client.subscribe(ch.id);
    this.bySub.set(id, topic);
    return id;
  }

  unsubscribe(subscriptionId: number): void {
    this.client.unsubscribe(subscriptionId);
  }

  count(topic: string): number {
    return this.received.filter((m) => m.topic === topic).length;
  }

  /** Closes and resolves once the socket is closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.client.close();
    await done;
  }
}
