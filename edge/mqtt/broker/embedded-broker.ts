/**
 * The embedded broker (aedes, MQTT 3.1.1) for the default set-up, enforcing proto/mqtt's ACL:
 * authenticate by username/password (or a dashboard's broker token, or a client certificate),
 * authorizePublish and authorizeSubscribe from aclRules().
 * Denials are refused per MQTT 3.1.1 (a refused subscription gets SUBACK 0x80; a refused publish
 * closes that client's connection, as aedes does) and recorded in `denials` and the log.
 * TCP_NODELAY is set on every connection (the e-stop path is latency-bound), and what is written
 * to a connection in one turn of the event loop leaves in one write; a subscriber that stops
 * reading is disconnected (connection-output.ts).
 * With `ws`, a WebSocket listener (for browser dashboards) feeds the same aedes instance, so its
 * clients pass the same authentication and ACL hooks as TCP clients.
 *
 * Transport: with `tls` both listeners speak TLS (mqtts://, wss://); without it they listen only
 * on a loopback address unless `allowPlaintext` says otherwise. Logins: failures are throttled per
 * address and per account (login-throttle.ts); a token login is bound to its dashboard session
 * (dropped when the session ends or is revoked: proto/mqtt/broker-token.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { aclRules, looksLikeBrokerToken, mayPublish, maySubscribe, verifyBrokerToken, checkTokenKey, type AclRule, type Role } from '../../../proto/mqtt/index.js';
import { identityFromCertificate } from '../../../proto/security/peer-identity.js';
import { plaintextRefusal } from '../../../proto/security/loopback.js';
import { silentLogger, type MqttLogger } from '../ports.js';
import { brokerUsers, type FleetAccounts } from './broker-users.js';
import { LoginThrottle, type ThrottleOptions } from './login-throttle.js';
import { WsListener } from './ws-listener.js';
import { coalesceWrites, watchOutput, type ConnectionOutput } from './connection-output.js';
import { IngestGate, gateReads } from './ingest-gate.js';

/** TLS for both listeners; the names follow Mosquitto's options of the same meaning. */
export interface BrokerTls {
  /** PEM: the broker's certificate (chain) and private key. */
  cert: Buffer | string;
  key: Buffer | string;
  /** PEM CA that signs client certificates (robots' from `spinal certs`); needed by the two options below. */
  ca?: Buffer | string;
  /** Refuse at the handshake any TCP client without a certificate signed by `ca` (require_certificate). */
  requireCertificate?: boolean;
  /**
   * A TCP client's verified certificate names its account (use_identity_as_username): a robot id
   * from the SAN URI spiffe://spinal/robot/<id> or the CN; no password is asked for, and a username
   * given that differs is refused.
   */
  useIdentityAsUsername?: boolean;
}

export interface EmbeddedBrokerOptions extends FleetAccounts {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  logger?: MqttLogger;
  /**
   * A subscriber whose connection has had data waiting this long without taking any of it is
   * disconnected (it reconnects and catches up from retained state): a frozen tab, a dead link.
   * A subscriber that is slow but reading is kept (connection-output.ts). Default 250 ms; 0 never
   * drops a reader for stalling (then only `maxBacklogBytes` does).
   */
  drainTimeoutMs?: number;
  /**
   * A client with more than this many bytes waiting on its connection is disconnected, even
   * though it reads: it takes less than the QoS 1 messages sent to it (QoS 0 is thinned long
   * before, `qos0BacklogBytes`). No publisher ever waits for a subscriber's connection, so this
   * bounds the broker's memory per client instead. Default 8 MiB; must be > 0.
   */
  maxBacklogBytes?: number;
  /**
   * Past this many bytes waiting on a client's connection, QoS 0 messages (telemetry: summaries,
   * briefs) to that client are skipped until it catches up; QoS 1 messages (events, commands,
   * e-stops, status) are always queued. A subscriber that cannot keep up with the fleet (a tool
   * taking every robot's summary at 20 Hz) then gets a thinned stream instead of piling up
   * memory. Default 256 KiB (about 330 state summaries); 0 never skips.
   */
  qos0BacklogBytes?: number;
  /**
   * Of each turn of the event loop, robots' connections are read for at most this long; the rest
   * of the robots read in the next turn, while operators', viewers' and brains' connections are
   * always read (ingest-gate.ts). Bounds an e-stop's wait behind fleet telemetry. Default 2 ms;
   * 0 reads every connection as soon as it has data.
   */
  ingestBudgetMs?: number;
  /**
   * Messages aedes delivers at once (its `concurrency`); past it, publishes wait in one queue
   * shared by every client. Default 0: no limit (no delivery waits for a socket either:
   * connection-output.ts). With a limit, 1000 robots x 20 Hz on a starved machine let that
   * queue grow until aedes' queue (mqemitter) overflowed the stack working it off, killing the
   * broker (`npm run bench -- broker-load`, docs/scaling.md).
   */
  deliveryConcurrency?: number;
  /** Also listen for MQTT over WebSocket. host defaults to `host`, port 0 (default) picks a free one, path defaults to '/mqtt'. */
  ws?: { host?: string; port?: number; path?: string };
  /** mqtts:// and wss://. Without it the listeners must be on loopback addresses, unless allowPlaintext. */
  tls?: BrokerTls;
  /** Listen in plaintext on a non-loopback address (a network you trust completely). Default false. */
  allowPlaintext?: boolean;
  /** The key shared with the dashboard that mints broker tokens (>= 32 bytes); absent: tokens are refused. */
  tokenKey?: Uint8Array;
  /** Failed-login throttling (defaults: 5 failures in 60 s lock the address and the account for 30 s). */
  throttle?: ThrottleOptions;
  /** Wall clock, epoch ms (tokens, throttling). */
  now?: () => number;
}

export interface Denial {
  username: string | null;
  action: 'connect' | 'publish' | 'subscribe';
  topic: string;
}

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();
const AUTH_BAD_CREDENTIALS = 4;
const AUTH_NOT_AUTHORIZED = 5;
/** setTimeout's limit; a session ending later is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Account {
  role: Role;
  hash: Buffer;
  rules: AclRule[];
}

interface Authed {
  username: string;
  rules: AclRule[];
  /** Absent for a revocation login (no rights). */
  role?: Role;
  /** The dashboard session a token login belongs to. */
  sid?: string;
  timer?: NodeJS.Timeout;
  /**
   * Publish decisions by topic: a client's rules are fixed for its connection and a robot
   * publishes to a handful of topics, so each is matched against the rules once (matching every
   * publish was 4 % of the broker's CPU at 1000 robots x 20 Hz). Bounded: cleared when full.
   */
  published?: Map<string, boolean>;
  /** QoS 0 messages skipped in the current episode of this client falling behind; absent when it keeps up. */
  skipped?: number;
}

const PUBLISH_DECISIONS = 64;

/** mayPublish() for this client, remembered per topic. */
function mayClientPublish(who: Authed, topic: string): boolean {
  const seen = who.published?.get(topic);
  if (seen !== undefined) return seen;
  const ok = mayPublish(who.rules, topic);
  if (who.published === undefined || who.published.size >= PUBLISH_DECISIONS) who.published = new Map();
  who.published.set(topic, ok);
  return ok;
}

/** The client's address: the TCP peer, or for a WebSocket the HTTP request's peer. */
function addressOf(client: Client): string {
  return client.req?.socket.remoteAddress ?? (client.conn as Partial<Socket>).remoteAddress ?? 'unknown';
}

/** The identity of a verified client certificate on a TLS connection; null for anything else. */
function certificateIdentity(client: Client): ReturnType<typeof identityFromCertificate> {
  const conn = client.conn as Partial<TLSSocket>;
  if (conn.encrypted !== true || conn.authorized !== true || typeof conn.getPeerCertificate !== 'function') return null;
  const cert = conn.getPeerCertificate();
  return cert && Object.keys(cert).length > 0 ? identityFromCertificate(cert) : null;
}

export class EmbeddedBroker {
  /** The last 1000 refused connections, publishes and subscriptions, oldest first. */
  readonly denials: readonly Denial[];
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly ws: WsListener | null,
    readonly host: string,
    denials: Denial[],
    private readonly secure: boolean,
    private readonly counters: { throttled: number; skippedQos0: number },
  ) {
    this.denials = denials;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.secure ? 'mqtts' : 'mqtt'}://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Failed logins refused without checking the password because the address or account was locked. */
  get throttled(): number {
    return this.counters.throttled;
  }

  /** QoS 0 messages not delivered to clients that had more than `qos0BacklogBytes` waiting. */
  get skippedQos0(): number {
    return this.counters.skippedQos0;
  }

  /** The WebSocket listener's port; null without the `ws` option. */
  get wsPort(): number | null {
    return this.ws?.port ?? null;
  }

  /** `ws://host:port/path` (wss:// with tls) for mqtt.connect(); null without the `ws` option. */
  get wsUrl(): string | null {
    return this.ws?.url ?? null;
  }

  static async start(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const logger = opts.logger ?? silentLogger;
    const now = opts.now ?? Date.now;
    const host = opts.host ?? '127.0.0.1';
    const wsHost = opts.ws?.host ?? host;
    // Refused before anything listens: no half-started broker.
    if (!opts.tls && opts.allowPlaintext !== true) {
      for (const h of opts.ws ? [host, wsHost] : [host]) {
        const refusal = plaintextRefusal(h, 'give the broker tls (cert, key), or set allowPlaintext on a network you trust');
        if (refusal) throw new Error(`embedded broker: ${refusal}`);
      }
    }
    const tls = opts.tls;
    if (tls && (tls.requireCertificate || tls.useIdentityAsUsername) && tls.ca === undefined) {
      throw new Error('embedded broker: tls.requireCertificate and tls.useIdentityAsUsername need tls.ca (the CA that signs client certificates)');
    }
    const tokenKey = opts.tokenKey ? checkTokenKey(opts.tokenKey, 'tokenKey') : null;
    const accounts = new Map<string, Account>(brokerUsers(opts).map((u) => [u.username, { role: u.role, hash: digest(u.password), rules: aclRules({ username: u.username, role: u.role, fleet: opts.fleet }) }]));
    const throttle = new LoginThrottle({ now, ...opts.throttle });
    const counters = { throttled: 0, skippedQos0: 0 };
    const outputs = new WeakMap<object, ConnectionOutput>();
    const authed = new WeakMap<Client, Authed>();
    /** Connections that delivered a revocation: closed once their CONNACK is out (the dashboard's receipt). */
    const revokers = new WeakSet<Client>();
    /** Revoked dashboard sessions → until when (epoch ms); entries past that are dropped. */
    const revoked = new Map<string, number>();
    /** Live token logins per session, to drop them at revocation. */
    const bySession = new Map<string, Set<Client>>();
    const denials: Denial[] = [];
    const deny = (d: Denial, why?: string): void => {
      denials.push(d);
      if (denials.length > 1000) denials.shift();
      logger.warn({ ...d, ...(why !== undefined ? { why } : {}) }, 'MQTT access denied');
    };
    const drainTimeout = opts.drainTimeoutMs ?? 250;
    if (!(Number.isInteger(drainTimeout) && drainTimeout >= 0)) throw new RangeError(`embedded broker drainTimeoutMs=${drainTimeout} must be a whole number of ms >= 0`);
    const backlogLimit = opts.qos0BacklogBytes ?? 256 * 1024;
    if (!(Number.isInteger(backlogLimit) && backlogLimit >= 0)) throw new RangeError(`embedded broker qos0BacklogBytes=${backlogLimit} must be a whole number of bytes >= 0`);
    const ingestBudget = opts.ingestBudgetMs ?? 2;
    if (!(Number.isFinite(ingestBudget) && ingestBudget >= 0)) throw new RangeError(`embedded broker ingestBudgetMs=${ingestBudget} must be a number of ms >= 0`);
    const gate = ingestBudget > 0 ? new IngestGate(ingestBudget) : null;
    const maxBacklog = opts.maxBacklogBytes ?? 8 * 1024 * 1024;
    if (!(Number.isInteger(maxBacklog) && maxBacklog > 0)) throw new RangeError(`embedded broker maxBacklogBytes=${maxBacklog} must be a whole number of bytes > 0`);
    const isRevoked = (sid: string): boolean => {
      const until = revoked.get(sid);
      if (until === undefined) return false;
      if (until > now()) return true;
      revoked.delete(sid);
      return false;
    };
    const endSession = (client: Client, why: string): void => {
      logger.info({ client: client.id, why }, 'MQTT token login ended');
      client.close();
    };
    /** Keeps a token login until its session's end (then drops it), re-armed past setTimeout's range. */
    const armSessionEnd = (client: Client, a: Authed, sessionExp: number): void => {
      const left = sessionExp - now();
      a.timer = setTimeout(() => {
        if (sessionExp > now()) armSessionEnd(client, a, sessionExp);
        else endSession(client, 'dashboard session expired');
      }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
      a.timer.unref();
    };
    const concurrency = opts.deliveryConcurrency ?? 0;
    if (!(Number.isInteger(concurrency) && concurrency >= 0)) throw new RangeError(`embedded broker deliveryConcurrency=${concurrency} must be a whole number >= 0`);
    const aedes = await Aedes.createBroker({
      // Never used: the connections' write() never reports a full stream to aedes, so it never
      // waits for a drain (connection-output.ts says why, and what bounds the backlog instead).
      drainTimeout: 0,
      concurrency,
      authenticate(client, username, password, done) {
        const refuse = (code: number, why: string, count = true): void => {
          if (count) throttle.failed([`address ${addressOf(client)}`, `account ${username ?? ''}`]);
          deny({ username: username ?? null, action: 'connect', topic: '' }, why);
          done(Object.assign(new Error(`${why} (${JSON.stringify(username ?? null)})`), { returnCode: code }), false);
        };
        const accept = (name: string, account: Account, extra: Partial<Authed> = {}): void => {
          authed.set(client, { username: name, rules: account.rules, role: account.role, ...extra });
          done(null, true);
        };
        // A verified client certificate is an identity of its own: never throttled, no password.
        const peer = tls?.useIdentityAsUsername ? certificateIdentity(client) : null;
        if (peer) {
          const account = accounts.get(peer.id);
          if (username !== undefined && username !== peer.id) return refuse(AUTH_NOT_AUTHORIZED, `certificate is for ${JSON.stringify(peer.id)}, username given is another`);
          if (!account || account.role !== (peer.kind === 'robot' ? 'robot' : 'operator')) return refuse(AUTH_NOT_AUTHORIZED, `certificate identity ${peer.kind} ${JSON.stringify(peer.id)} has no such account`);
          return accept(peer.id, account);
        }
        const address = `address ${addressOf(client)}`;
        const wait = throttle.retryAfterMs([address, `account ${username ?? ''}`]);
        if (wait > 0) {
          counters.throttled += 1;
          return refuse(AUTH_NOT_AUTHORIZED, `too many failed logins from ${addressOf(client)} or for this account; retry in ${Math.ceil(wait / 1000)} s`, false);
        }
        const secret = password?.toString('utf8') ?? '';
        if (tokenKey && looksLikeBrokerToken(secret)) {
          const check = verifyBrokerToken(tokenKey, secret, now());
          if (!check.ok) return refuse(AUTH_BAD_CREDENTIALS, `broker token refused: ${check.problem}`);
          const t = check.token;
          if (t.fleet !== opts.fleet) return refuse(AUTH_BAD_CREDENTIALS, `broker token is for fleet ${JSON.stringify(t.fleet)}`);
          if (t.kind === 'revoke') {
            // Accepted with no rights and closed once connected: the CONNACK is the dashboard's receipt.
            revoked.set(t.sid, t.until);
            if (revoked.size > 100_000) for (const [sid, until] of revoked) if (until <= now()) revoked.delete(sid);
            for (const c of bySession.get(t.sid) ?? []) endSession(c, 'dashboard session revoked');
            bySession.delete(t.sid);
            logger.info({ sid: t.sid }, 'dashboard session revoked at the broker');
            authed.set(client, { username: '', rules: [] });
            revokers.add(client);
            done(null, true);
            return;
          }
          const account = accounts.get(t.user);
          if (username !== t.user) return refuse(AUTH_BAD_CREDENTIALS, `broker token is for ${JSON.stringify(t.user)}, not this username`);
          if (!account || account.role !== t.role) return refuse(AUTH_BAD_CREDENTIALS, `broker token names ${t.role} ${JSON.stringify(t.user)}, which is not an account here`);
          if (isRevoked(t.sid)) return refuse(AUTH_BAD_CREDENTIALS, 'broker token of a revoked dashboard session');
          throttle.succeeded(address);
          const a: Authed = { username: t.user, rules: account.rules, role: account.role, sid: t.sid };
          let live = bySession.get(t.sid);
          if (!live) bySession.set(t.sid, (live = new Set()));
          live.add(client);
          armSessionEnd(client, a, t.sessionExp);
          authed.set(client, a);
          done(null, true);
          return;
        }
        const account = username === undefined ? undefined : accounts.get(username);
        if (!account || !password || !timingSafeEqual(account.hash, digest(password))) return refuse(AUTH_BAD_CREDENTIALS, 'bad username or password');
        throttle.succeeded(address);
        accept(username as string, account);
      },
      authorizePublish(client, packet, done) {
        const who = client ? authed.get(client) : undefined;
        if (client === null) return done(null); // the broker's own $SYS traffic
        if (who && mayClientPublish(who, packet.topic)) return done(null);
        deny({ username: who?.username ?? null, action: 'publish', topic: packet.topic });
        done(new Error(`publish to ${packet.topic} not allowed for ${JSON.stringify(who?.username ?? null)}`));
      },
      authorizeForward(client, packet) {
        if (backlogLimit === 0 || packet.qos !== 0) return packet;
        const a = authed.get(client);
        const out = outputs.get(client.conn);
        const waiting = out?.waiting ?? client.conn.writableLength;
        if (waiting <= backlogLimit) {
          // The packet goes out in a later phase: count it now, or one poll phase's worth of
          // publishes would all pass this check before the first is written.
          out?.reserve(packet.payload.length + packet.topic.length + 5);
          if (a?.skipped !== undefined && waiting <= backlogLimit / 4) {
            logger.info({ client: client.id, username: a.username, skipped: a.skipped }, 'MQTT client caught up; QoS 0 messages to it flow again');
            delete a.skipped;
          }
          return packet;
        }
        counters.skippedQos0 += 1;
        if (a !== undefined) {
          if (a.skipped === undefined) {
            a.skipped = 0;
            logger.warn({ client: client.id, username: a.username, waitingBytes: waiting, limitBytes: backlogLimit }, 'MQTT client falling behind; skipping QoS 0 messages to it until it catches up');
          }
          a.skipped += 1;
        }
        return null;
      },
      authorizeSubscribe(client, sub, done) {
        const who = authed.get(client);
        if (who && maySubscribe(who.rules, sub.topic)) return done(null, sub);
        deny({ username: who?.username ?? null, action: 'subscribe', topic: sub.topic });
        done(null, null);
      },
    });
    aedes.on('clientReady', (client) => {
      if (revokers.has(client)) client.close();
    });
    aedes.on('clientDisconnect', (client) => {
      const a = authed.get(client);
      if (a?.timer) clearTimeout(a.timer);
      if (a?.sid !== undefined) {
        const live = bySession.get(a.sid);
        live?.delete(client);
        if (live?.size === 0) bySession.delete(a.sid);
      }
    });
    /** Every client stream, TCP, TLS or WebSocket, enters aedes through here. */
    const handle = (stream: Duplex, req?: IncomingMessage): void => {
      // Asked on every read and write: the answer is kept once the client has logged in (its role is fixed for the connection).
      let robot: boolean | null = null;
      const isRobot = (): boolean => {
        if (robot !== null) return robot;
        const client = (stream as Duplex & { client?: Client }).client;
        const a = client === undefined ? undefined : authed.get(client);
        if (a === undefined) return false;
        robot = a.role === 'robot';
        return robot;
      };
      if (gate) gateReads(stream, gate, isRobot);
      // A robot's connection is never held: it carries the robot's commands and e-stops, a few a
      // second (nothing to gather), and they must leave now, not after the next turn of a busy loop.
      coalesceWrites(stream, () => !isRobot());
      outputs.set(stream, watchOutput(stream, { stallMs: drainTimeout, maxWaitingBytes: maxBacklog }, (verdict) => {
        const client = (stream as Duplex & { client?: Client }).client;
        const who = { client: client?.id ?? null, username: client ? authed.get(client)?.username ?? null : null, buffered: stream.writableLength };
        if (verdict === 'stalled') logger.warn({ ...who, stalledMs: drainTimeout }, 'MQTT client stopped reading; disconnected');
        else logger.warn({ ...who, limitBytes: maxBacklog }, 'MQTT client takes less than it is sent (backlog past maxBacklogBytes); disconnected');
        stream.destroy();
      }));
      if (req) aedes.handle(stream, req);
      else aedes.handle(stream);
    };
    const server: Server = tls
      ? createTlsServer({
        cert: tls.cert, key: tls.key,
        ...(tls.ca !== undefined ? { ca: tls.ca, requestCert: true, rejectUnauthorized: tls.requireCertificate === true } : {}),
      }, (socket) => { socket.setNoDelay(true); handle(socket); })
      : createServer({ noDelay: true }, (socket) => handle(socket));
    // A failed handshake (a plaintext client, an unknown certificate) only ends that connection.
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      logger.warn({ err: err.message, remote: socket.remoteAddress }, 'MQTT TLS handshake failed');
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    let ws: WsListener | null = null;
    if (opts.ws) {
      try {
        ws = await WsListener.start({
          host: wsHost, port: opts.ws.port ?? 0, path: opts.ws.path ?? '/mqtt', logger,
          ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
          onStream: (stream, req) => handle(stream, req),
        });
      } catch (err) {
        // No half-started broker: a WebSocket port that cannot be bound fails the whole start.
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw err;
      }
    }
    const broker = new EmbeddedBroker(aedes, server, ws, host, denials, tls !== undefined, counters);
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
