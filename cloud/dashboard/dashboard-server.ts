/**
 * The fleet dashboard's HTTP side: serves the browser client, logs operators and viewers in, and
 * sets tasks through the brain. Telemetry and commands do not pass through here: the browser speaks
 * MQTT over WebSocket to the broker with the user's own MQTT account, so the broker's ACL is the
 * one enforcement of who may stop, reset or resume (this server only mirrors it in the page).
 *
 * API (JSON): POST /api/login {username,password} · POST /api/logout · GET /api/session ·
 * POST /api/broker-token (a broker credential for this session) · GET /api/robots ·
 * POST /api/robots/<id>/task {instruction} (operators) · GET /healthz.
 * Session cookie: HttpOnly, SameSite=Strict (and Secure over HTTPS); POSTs must be
 * application/json and same-origin.
 *
 * Transport: HTTPS when given a certificate; plaintext HTTP only on a loopback address unless
 * `allowPlaintext` says otherwise (the login's password and the session cookie cross it).
 * Broker credentials: with `brokerTokens` (embedded broker) or `brokerSessions` (Mosquitto's
 * dynamic security, dynsec-sessions.ts) the page never holds a password and its credential dies
 * with the session; without, it keeps the password in memory for the page's life (a reload asks
 * for it again).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SessionInfo } from '../../proto/brain/index.js';
import { checkName } from '../../proto/mqtt/index.js';
import { isLoopbackHost, plaintextRefusal } from '../../proto/security/loopback.js';
import { BrokerCredentials, type BrokerCredentialOptions } from './broker-credentials.js';
import type { SessionBrokerAccess } from './session-broker-access.js';
import { HttpError, cookie, decodeComponent, readJsonObject, sendJson, stringField } from './http-util.js';
import { LoginThrottle } from './login-throttle.js';
import { SessionStore, type Session } from './sessions.js';
import { loadAssets, type Asset } from './static-assets.js';
import type { DashboardUsers } from './users.js';

/** What the dashboard needs of the brain (BrainServer satisfies it). */
export interface DashboardBrain {
  /** Rejects with an error named TaskStoreUnavailable when the task could not be stored. */
  setTask(robotId: string, instruction: string): Promise<{ taskId: string; instruction: string }> | { taskId: string; instruction: string };
  sessions(): readonly SessionInfo[];
}

export interface DashboardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface DashboardOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  fleet: string;
  /** The robots the page lists before they first report (the brain's configured robots). */
  robots: readonly string[];
  users: DashboardUsers;
  /** The broker's MQTT-over-WebSocket URL as the browser reaches it. */
  mqttUrl: string;
  brain?: DashboardBrain | null;
  sessionTtlMs?: number;
  now?: () => number;
  logger?: DashboardLogger;
  /** PEM certificate (chain) and key: serve HTTPS. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy on the same host). Default false. */
  allowPlaintext?: boolean;
  /** Mint broker tokens for the page instead of having it keep the password (the broker must hold the same key). */
  brokerTokens?: Omit<BrokerCredentialOptions, 'fleet' | 'now' | 'revokeUrl'> & { revokeUrl?: string };
  /** Or: one broker client per session (Mosquitto's dynamic security); the dashboard stops it at close. */
  brokerSessions?: SessionBrokerAccess;
  /** The browser client's folder (default: public/ beside this module); the dashboard bench serves an older build from here to compare. */
  assetsDir?: string;
}

const COOKIE = 'spinal_session';
const INSTRUCTION_MAX = 500;
const silent: DashboardLogger = { info: () => undefined, warn: () => undefined };

export class DashboardServer {
  private constructor(private readonly server: Server, readonly host: string, private readonly secure: boolean, private readonly access: SessionBrokerAccess | null) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.secure ? 'https' : 'http'}://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
  }

  static async start(opts: DashboardOptions): Promise<DashboardServer> {
    checkName('fleet', opts.fleet);
    for (const r of opts.robots) checkName('robot', r);
    if (!/^wss?:\/\/[^/]+/.test(opts.mqttUrl)) throw new Error(`dashboard mqttUrl ${JSON.stringify(opts.mqttUrl)} must be a ws:// or wss:// URL`);
    if (opts.users.size === 0) throw new Error('dashboard: no operators or viewers in the accounts: nobody could log in');
    const host = opts.host ?? '127.0.0.1';
    if (!opts.tls && opts.allowPlaintext !== true) {
      const refusal = plaintextRefusal(host, 'give dashboard.tls (certFile, keyFile), or set dashboard.allowPlaintext behind a TLS proxy on this host');
      if (refusal) throw new Error(`dashboard: ${refusal}`);
    }
    // A page served over HTTPS may not open ws:// (mixed content), and the broker login would cross in clear.
    const mqttHost = /^wss?:\/\/(\[[^\]]+\]|[^:/]+)/.exec(opts.mqttUrl)?.[1] ?? '';
    if (opts.tls && opts.mqttUrl.startsWith('ws://') && !isLoopbackHost(mqttHost)) {
      throw new Error(`dashboard mqttUrl ${JSON.stringify(opts.mqttUrl)} is plaintext to a broker off loopback: the HTTPS page needs wss://`);
    }
    const now = opts.now ?? Date.now;
    const logger = opts.logger ?? silent;
    const assets = loadAssets(opts.assetsDir);
    const sessions = new SessionStore(opts.sessionTtlMs ?? 12 * 3600_000, now);
    const throttle = new LoginThrottle(now);
    const bt = opts.brokerTokens;
    if (bt && opts.brokerSessions) throw new Error('dashboard: brokerTokens and brokerSessions are two ways of the same thing; give one');
    const credentials = bt ? new BrokerCredentials({ ...bt, fleet: opts.fleet, now, revokeUrl: bt.revokeUrl ?? opts.mqttUrl }) : opts.brokerSessions ?? null;
    const api = new Api(opts, sessions, throttle, logger, credentials, opts.tls !== undefined);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      api.handle(req, res, assets).catch((e: unknown) => {
        const err = e instanceof HttpError ? e : new HttpError(500, 'internal error');
        if (!(e instanceof HttpError)) logger.warn({ err: (e as Error).message, url: req.url }, 'dashboard request failed');
        if (!res.headersSent) sendJson(res, err.status, { error: err.message });
        else res.destroy();
      });
    };
    const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(handler);
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const d = new DashboardServer(server, host, opts.tls !== undefined, credentials);
    logger.info({ url: d.url, fleet: opts.fleet, mqtt: opts.mqttUrl }, 'dashboard listening');
    return d;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.access?.stop();
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // connect-src: the broker's WebSocket is on another port, hence ws:/wss:.
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

class Api {
  constructor(
    private readonly opts: DashboardOptions,
    private readonly sessions: SessionStore,
    private readonly throttle: LoginThrottle,
    private readonly logger: DashboardLogger,
    private readonly credentials: SessionBrokerAccess | null,
    private readonly secure: boolean,
  ) {}

  /** The cookie's attributes; Secure over HTTPS so it never travels in clear. */
  private cookieAttrs(maxAgeS: number): string {
    return `Path=/; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}; Max-Age=${maxAgeS}`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, assets: Map<string, Asset>): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { ok: true });
      if (path === '/api/session') return this.session(req, res);
      if (path === '/api/robots') return this.robots(req, res);
      const a = assets.get(path);
      if (!a) throw new HttpError(404, `no such page: ${path}`);
      if (req.headers['if-none-match'] === a.etag) {
        res.writeHead(304, { etag: a.etag });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length, etag: a.etag, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : a.body);
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, `method ${req.method ?? '?'} not allowed on ${path}`);
    this.checkOrigin(req);
    if (path === '/api/login') return this.login(req, res);
    if (path === '/api/logout') return this.logout(req, res);
    if (path === '/api/broker-token') return this.brokerToken(req, res);
    const task = /^\/api\/robots\/([^/]+)\/task$/.exec(path);
    if (task) return this.setTask(req, res, decodeComponent(task[1] as string, 'robot id'));
    throw new HttpError(404, `no such endpoint: POST ${path}`);
  }

  /** Browsers send Origin on cross-site POSTs; it must name this server. */
  private checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new HttpError(403, `Origin ${JSON.stringify(origin)} is not a URL`);
    }
    if (host !== req.headers.host) throw new HttpError(403, `cross-origin request from ${origin} refused`);
  }

  private whoami(s: Session): object {
    return {
      user: s.name, role: s.role, fleet: this.opts.fleet, mqttUrl: this.opts.mqttUrl, robots: this.opts.robots, expiresAt: s.expiresAtMs,
      brokerAuth: this.credentials ? 'token' : 'password',
    };
  }

  /** A broker credential for this session only (the page asks before every connection). */
  private brokerToken(req: IncomingMessage, res: ServerResponse): void {
    const s = this.requireSession(req);
    if (!this.credentials) throw new HttpError(404, 'this dashboard mints no broker tokens (dashboard.brokerTokenKeyFile is not set): the page logs in to the broker with the password');
    sendJson(res, 200, this.credentials.credential(s));
  }

  private async logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = this.sessions.get(cookie(req, COOKIE));
    this.sessions.delete(cookie(req, COOKIE));
    if (s && this.credentials) {
      // Revoked before answering: once the page sees the logout, its broker credential is dead.
      await this.credentials.close(s).then(
        () => this.logger.info({ user: s.name }, 'dashboard session revoked at the broker'),
        (e: unknown) => this.logger.warn({ user: s.name, err: (e as Error).message }, 'could not revoke the session at the broker: its broker credential stays valid until it expires (a token\'s lifetime, or the session\'s end for a dynamic security client)'),
      );
    }
    res.writeHead(204, { 'set-cookie': `${COOKIE}=; ${this.cookieAttrs(0)}` });
    res.end();
  }

  private requireSession(req: IncomingMessage): Session {
    const s = this.sessions.get(cookie(req, COOKIE));
    if (!s) throw new HttpError(401, 'not logged in');
    return s;
  }

  private session(req: IncomingMessage, res: ServerResponse): void {
    sendJson(res, 200, this.whoami(this.requireSession(req)));
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '?';
    const wait = this.throttle.retryAfterMs(address);
    if (wait > 0) throw new HttpError(429, `too many failed logins from ${address}; try again in ${Math.ceil(wait / 1000)} s`);
    const body = await readJsonObject(req);
    const username = stringField(body, 'username', 64);
    const password = stringField(body, 'password', 1024);
    const user = this.opts.users.verify(username, password);
    if (!user) {
      this.throttle.failed(address);
      this.logger.warn({ user: username, address }, 'dashboard login refused');
      throw new HttpError(401, `wrong username or password for ${JSON.stringify(username)}`);
    }
    this.throttle.succeeded(address);
    const s = this.sessions.create(user);
    if (this.credentials) {
      try {
        await this.credentials.open(s);
      } catch (e) {
        this.sessions.delete(s.token);
        this.logger.warn({ user: s.name, err: (e as Error).message }, 'the broker did not take the session');
        throw new HttpError(503, `logged in, but the broker did not take the session: ${(e as Error).message}`);
      }
    }
    this.logger.info({ user: s.name, role: s.role, address }, 'dashboard login');
    const maxAge = Math.floor(this.sessions.ttlMs / 1000);
    sendJson(res, 200, this.whoami(s), { 'set-cookie': `${COOKIE}=${s.token}; ${this.cookieAttrs(maxAge)}` });
  }

  private robots(req: IncomingMessage, res: ServerResponse): void {
    this.requireSession(req);
    const sessions = this.opts.brain?.sessions() ?? [];
    sendJson(res, 200, {
      robots: this.opts.robots,
      brain: this.opts.brain
        ? sessions.map((s) => ({ robot: s.robotId, session: s.sessionId, profile: s.profileId, task: s.instruction, status: s.backendStatus ?? '', observations: s.observations, plans: s.plans, errors: s.errors }))
        : null,
    });
  }

  private async setTask(req: IncomingMessage, res: ServerResponse, robot: string): Promise<void> {
    const s = this.requireSession(req);
    if (s.role !== 'operator') throw new HttpError(403, `${s.name} is a viewer: only operators set tasks`);
    if (!this.opts.robots.includes(robot)) throw new HttpError(404, `robot ${JSON.stringify(robot)} is not in this fleet`);
    const brain = this.opts.brain;
    if (!brain) throw new HttpError(503, 'no brain is attached to this dashboard');
    const instruction = stringField(await readJsonObject(req), 'instruction', INSTRUCTION_MAX).trim();
    if (instruction.length === 0) throw new HttpError(400, 'instruction must not be blank');
    const task = await Promise.resolve(brain.setTask(robot, instruction)).catch((e: unknown) => {
      if (e instanceof Error && e.name === 'TaskStoreUnavailable') throw new HttpError(503, e.message);
      throw e;
    });
    this.logger.info({ user: s.name, robot, task: task.taskId, instruction }, 'task set from the dashboard');
    sendJson(res, 200, { robot, taskId: task.taskId, instruction: task.instruction });
  }
}
