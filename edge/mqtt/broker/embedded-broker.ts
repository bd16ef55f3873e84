/**
 * The embedded broker (aedes, MQTT 3.1.1) for the default set-up, enforcing proto/mqtt's ACL:
 * authenticate by username/password, authorizePublish and authorizeSubscribe from aclRules().
 * Denials are refused per MQTT 3.1.1 (a refused subscription gets SUBACK 0x80; a refused publish
 * closes that client's connection, as aedes does) and recorded in `denials` and the log.
 * TCP_NODELAY is set on every connection (the e-stop path is latency-bound).
 * With `ws`, a WebSocket listener (for browser dashboards) feeds the same aedes instance, so its
 * clients pass the same authentication and ACL hooks as TCP clients.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { aclRules, mayPublish, maySubscribe, type AclRule } from '../../../proto/mqtt/index.js';
import { silentLogger, type MqttLogger } from '../ports.js';
import { brokerUsers, type FleetAccounts } from './broker-users.js';
import { WsListener } from './ws-listener.js';

export interface EmbeddedBrokerOptions extends FleetAccounts {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  logger?: MqttLogger;
  /**
   * A subscriber whose socket has not drained for this long is disconnected (it reconnects and
   * catches up from retained state). aedes delivers every message through one queue and waits for
   * each socket, so without this one slow reader (a dashboard on a weak link, a frozen tab) holds
   * back every client's messages, e-stops included. Default 250 ms; 0 waits forever (never do).
   */
  drainTimeoutMs?: number;
  /** Also listen for MQTT over WebSocket. host defaults to `host`, port 0 (default) picks a free one, path defaults to '/mqtt'. */
  ws?: { host?: string; port?: number; path?: string };
}

export interface Denial {
  username: string | null;
  action: 'connect' | 'publish' | 'subscribe';
  topic: string;
}

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();
const AUTH_BAD_CREDENTIALS = 4;

export class EmbeddedBroker {
  /** The last 1000 refused connections, publishes and subscriptions, oldest first. */
  readonly denials: readonly Denial[];
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly ws: WsListener | null,
    readonly host: string,
    denials: Denial[],
  ) {
    this.denials = denials;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** The WebSocket listener's port; null without the `ws` option. */
  get wsPort(): number | null {
    return this.ws?.port ?? null;
  }

  /** `ws://host:port/path` for mqtt.connect(); null without the `ws` option. */
  get wsUrl(): string | null {
    return this.ws?.url ?? null;
  }

  static async start(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const logger = opts.logger ?? silentLogger;
    const users = new Map(brokerUsers(opts).map((u) => [u.username, { hash: digest(u.password), rules: aclRules({ username: u.username, role: u.role, fleet: opts.fleet }) }]));
    const rulesOf = new WeakMap<Client, { username: string; rules: AclRule[] }>();
    const denials: Denial[] = [];
    const deny = (d: Denial): void => {
      denials.push(d);
      if (denials.length > 1000) denials.shift();
      logger.warn(d, 'MQTT access denied');
    };
    const drainTimeout = opts.drainTimeoutMs ?? 250;
    if (!(Number.isInteger(drainTimeout) && drainTimeout >= 0)) throw new RangeError(`embedded broker drainTimeoutMs=${drainTimeout} must be a whole number of ms >= 0`);
    const aedes = await Aedes.createBroker({
      drainTimeout,
      authenticate(client, username, password, done) {
        const u = username === undefined ? undefined : users.get(username);
        if (!u || !password || !timingSafeEqual(u.hash, digest(password))) {
          deny({ username: username ?? null, action: 'connect', topic: '' });
          const err = Object.assign(new Error(`bad username or password for ${JSON.stringify(username ?? null)}`), { returnCode: AUTH_BAD_CREDENTIALS });
          done(err, false);
          return;
        }
        rulesOf.set(client, { username: username as string, rules: u.rules });
        done(null, true);
      },
      authorizePublish(client, packet, done) {
        const who = client ? rulesOf.get(client) : undefined;
        if (client === null) return done(null); // the broker's own $SYS traffic
        if (who && mayPublish(who.rules, packet.topic)) return done(null);
        deny({ username: who?.username ?? null, action: 'publish', topic: packet.topic });
        done(new Error(`publish to ${packet.topic} not allowed for ${JSON.stringify(who?.username ?? null)}`));
      },
      authorizeSubscribe(client, sub, done) {
        const who = rulesOf.get(client);
        if (who && maySubscribe(who.rules, sub.topic)) return done(null, sub);
        deny({ username: who?.username ?? null, action: 'subscribe', topic: sub.topic });
        done(null, null);
      },
    });
    const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    let ws: WsListener | null = null;
    if (opts.ws) {
      try {
        ws = await WsListener.start({
          host: opts.ws.host ?? host, port: opts.ws.port ?? 0, path: opts.ws.path ?? '/mqtt', logger,
          onStream: (stream, req) => aedes.handle(stream, req),
        });
      } catch (err) {
        // No half-started broker: a WebSocket port that cannot be bound fails the whole start.
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw err;
      }
    }
    const broker = new EmbeddedBroker(aedes, server, ws, host, denials);
    logger.info({ url: broker.url, wsUrl: broker.wsUrl }, 'embedded MQTT broker listening');
    return broker;
  }

  /** Closes the listeners and every client connection, TCP and WebSocket (robots see the broker go down). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await Promise.all([
      this.ws?.close(),
      new Promise<void>((resolve) => this.server.close(() => resolve())),
    ]);
  }
}
