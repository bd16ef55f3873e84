/**
 * The fleet dashboard's HTTP side: serves the browser client, logs operators and viewers in, and
 * sets tasks through the brain. Telemetry and commands do not pass through here: the browser speaks
 * MQTT over WebSocket to the broker with the user's own MQTT account, so the broker's ACL is the
 * one enforcement of who may stop, reset or resume (this server only mirrors it in the page).
 *
 * API (JSON): POST /api/login {username,password} · POST /api/logout · GET /api/session ·
 * GET /api/robots · POST /api/robots/<id>/task {instruction} (operators) · GET /healthz.
 * Session cookie: HttpOnly, SameSite=Strict; POSTs must be application/json and same-origin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionInfo } from '../../proto/brain/index.js';
import { checkName } from '../../proto/mqtt/index.js';
import { HttpError, cookie, decodeComponent, readJsonObject, sendJson, stringField } from './http-util.js';
import { LoginThrottle } from './login-throttle.js';
import { SessionStore, type Session } from './sessions.js';
import { loadAssets, type Asset } from './static-assets.js';
import type { DashboardUsers } from './users.js';

/** What the dashboard needs of the brain (BrainServer satisfies it). */
export interface DashboardBrain {
  setTask(robotId: string, instruction: string): { taskId: string; instruction: string };
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
}

const COOKIE = 'spinal_session';
const INSTRUCTION_MAX = 500;
const silent: DashboardLogger = { info: () => undefined, warn: () => undefined };

export class DashboardServer {
  private constructor(private readonly server: Server, readonly host: string) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
  }

  static async start(opts: DashboardOptions): Promise<DashboardServer> {
    checkName('fleet', opts.fleet);
    for (const r of opts.robots) checkName('robot', r);
    if (!/^wss?:\/\/[^/]+/.test(opts.mqttUrl)) throw new Error(`dashboard mqttUrl ${JSON.stringify(opts.mqttUrl)} must be a ws:// or wss:// URL`);
    if (opts.users.size === 0) throw new Error('dashboard: no operators or viewers in the accounts: nobody could log in');
    const now = opts.now ?? Date.now;
    const logger = opts.logger ?? silent;
    const assets = loadAssets();
    const sessions = new SessionStore(opts.sessionTtlMs ?? 12 * 3600_000, now);
    const throttle = new LoginThrottle(now);
    const api = new Api(opts, sessions, throttle, logger);
    const server = createServer((req, res) => {
      api.handle(req, res, assets).catch((e: unknown) => {
        const err = e instanceof HttpError ? e : new HttpError(500, 'internal error');
        if (!(e instanceof HttpError)) logger.warn({ err: (e as Error).message, url: req.url }, 'dashboard request failed');
        if (!res.headersSent) sendJson(res, err.status, { error: err.message });
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const d = new DashboardServer(server, host);
    logger.info({ url: d.url, fleet: opts.fleet, mqtt: opts.mqttUrl }, 'dashboard listening');
    return d;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
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
  ) {}

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
    if (path === '/api/logout') {
      this.sessions.delete(cookie(req, COOKIE));
      res.writeHead(204, { 'set-cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
      res.end();
      return;
    }
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
    return { user: s.name, role: s.role, fleet: this.opts.fleet, mqttUrl: this.opts.mqttUrl, robots: this.opts.robots, expiresAt: s.expiresAtMs };
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
    this.logger.info({ user: s.name, role: s.role, address }, 'dashboard login');
    const maxAge = Math.floor(this.sessions.ttlMs / 1000);
    sendJson(res, 200, this.whoami(s), { 'set-cookie': `${COOKIE}=${s.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}` });
  }

  private robots(req: IncomingMessage, res: ServerResponse): void {
    this.requireSession(req);
    const sessions = this.opts.brain?.sessions() ?? [];
    sendJson(res, 200, {
      robots: this.opts.robots,
      brain: this.opts.brain
        ? sessions.map((s) => ({ robot: s.robotId, session: s.sessionId, profile: s.profileId, task: s.instruction, observations: s.observations, plans: s.plans, errors: s.errors }))
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
    const task = brain.setTask(robot, instruction);
    this.logger.info({ user: s.name, robot, task: task.taskId, instruction }, 'task set from the dashboard');
    sendJson(res, 200, { robot, taskId: task.taskId, instruction: task.instruction });
  }
}
