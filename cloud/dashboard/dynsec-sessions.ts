/**
 * One Mosquitto client per dashboard session, through the dynamic security plugin's control
 * topic (proto/mqtt/dynsec.ts): at login the dashboard adds a client with a random name and a
 * random 128-bit password, holding the role of the user's own account (so it may reset and resume
 * only under that user's name); at logout, at session expiry and when the dashboard stops it
 * deletes the client, which Mosquitto 2.0.11 also disconnects ("disconnected by administrative
 * action"), so a copied credential dies with the session.
 *
 * Throttling: operators' passwords never reach the broker, so guessing against the broker meets
 * only these random secrets (and robots' long random passwords); the dashboard's own login is the
 * throttled door (login-throttle.ts).
 *
 * Session clients carry their expiry in their name; every dashboard deletes the expired ones it
 * finds (at start and every sweepMs), so clients left by a dashboard that crashed live at most
 * until their session would have ended.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  DYNSEC_CONTROL_TOPIC, DYNSEC_RESPONSE_TOPIC, accountRoleName, sessionClientExpiry, sessionClientName,
} from '../../proto/mqtt/index.js';
import type { BrokerCredential, SessionBrokerAccess } from './session-broker-access.js';
import type { Session } from './sessions.js';

export interface DynsecSessionOptions {
  /** Where the dashboard reaches the broker (mqtt://, mqtts://, ws://, wss://). */
  url: string;
  /** The admin login `spinal mosquitto --dynamic-security` wrote (dashboard-broker-admin.json). */
  username: string;
  password: string;
  /** PEM CA of the broker's certificate. */
  ca?: Buffer;
  now?: () => number;
  /** Runs `fn` after `ms`; returns a cancel. Default setTimeout (unref'd). */
  schedule?: (ms: number, fn: () => void) => () => void;
  /** How long the plugin may take to answer a command. Default 5000 ms. */
  commandTimeoutMs?: number;
  /** How often expired session clients left by any dashboard are deleted. Default 10 min; 0: only at start. */
  sweepMs?: number;
  onError?: (message: string) => void;
}

interface DynsecResponse {
  command?: string;
  correlationData?: string;
  error?: string;
  data?: { clients?: unknown };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

const defaultSchedule = (ms: number, fn: () => void): (() => void) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class DynsecSessions implements SessionBrokerAccess {
  private readonly pending = new Map<string, { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Session token → its broker client. Invariant: an entry exists iff the client was created and not yet deleted by us. */
  private readonly clients = new Map<string, { credential: BrokerCredential; cancel: () => void }>();
  private nextId = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly schedule: (ms: number, fn: () => void) => () => void;

  private constructor(private readonly admin: MqttClient, private readonly o: DynsecSessionOptions) {
    this.now = o.now ?? Date.now;
    this.schedule = o.schedule ?? defaultSchedule;
    admin.on('message', (topic, payload) => { if (topic === DYNSEC_RESPONSE_TOPIC) this.answer(payload); });
  }

  /** Connects as the admin, deletes expired session clients; rejects naming the broker when it cannot. */
  static async connect(o: DynsecSessionOptions): Promise<DynsecSessions> {
    let admin: MqttClient;
    try {
      admin = await connectAsync(o.url, {
        protocolVersion: 4, username: o.username, password: o.password, clean: true, connectTimeout: 5000, reconnectPeriod: 1000,
        clientId: `spinal-dashboard-admin-${randomBytes(6).toString('hex')}`,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      });
    } catch (e) {
      throw new Error(`the dashboard cannot log in to the broker's dynamic security at ${o.url} as ${JSON.stringify(o.username)}: ${(e as Error).message}`);
    }
    admin.on('error', (e) => o.onError?.(`broker admin connection: ${e.message}`));
    const d = new DynsecSessions(admin, o);
    try {
      await admin.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 });
      await d.sweep();
    } catch (e) {
      await d.stop();
      throw new Error(`the broker at ${o.url} does not answer dynamic security commands from ${JSON.stringify(o.username)}: ${(e as Error).message}`);
    }
    const every = o.sweepMs ?? 600_000;
    if (every > 0) {
      d.sweeper = setInterval(() => { d.sweep().catch((e: unknown) => o.onError?.(`sweeping expired session clients: ${(e as Error).message}`)); }, every);
      d.sweeper.unref();
    }
    return d;
  }

  async open(s: Session): Promise<void> {
    const username = sessionClientName(s.expiresAtMs, randomBytes(12).toString('base64url'));
    const password = randomBytes(16).toString('base64url');
    await this.command({
      command: 'createClient', username, password, textname: `dashboard session of ${s.name}`,
      roles: [{ rolename: accountRoleName(s.name), priority: 0 }],
    });
    const delay = Math.min(Math.max(0, s.expiresAtMs - this.now()), MAX_TIMER_MS);
    const cancel = this.schedule(delay, () => { this.expire(s); });
    this.clients.set(s.token, { credential: { username, password, expiresAt: s.expiresAtMs }, cancel });
  }

  credential(s: Session): BrokerCredential {
    const c = this.clients.get(s.token);
    if (!c) throw new Error(`session of ${s.name} has no broker client (it was deleted or never created)`);
    return c.credential;
  }

  async close(s: Session): Promise<void> {
    const c = this.clients.get(s.token);
    if (!c) return;
    c.cancel();
    this.clients.delete(s.token);
    await this.command({ command: 'deleteClient', username: c.credential.username });
  }

  /** Deletes every session client of this dashboard, then disconnects. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    const left = [...this.clients.values()];
    this.clients.clear();
    for (const c of left) {
      c.cancel();
      await this.command({ command: 'deleteClient', username: c.credential.username }).catch((e: unknown) => this.o.onError?.((e as Error).message));
    }
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('the dashboard is stopping')); }
    this.pending.clear();
    await this.admin.endAsync(true);
  }

  /** Deletes session clients whose expiry (in their name) has passed, whoever created them. */
  async sweep(): Promise<number> {
    const r = await this.command({ command: 'listClients', verbose: false, count: -1, offset: 0 });
    const names = Array.isArray(r.data?.clients) ? r.data.clients.filter((c): c is string => typeof c === 'string') : [];
    const now = this.now();
    const expired = names.filter((n) => { const exp = sessionClientExpiry(n); return exp !== null && exp <= now; });
    for (const username of expired) await this.command({ command: 'deleteClient', username });
    return expired.length;
  }

  private expire(s: Session): void {
    if (s.expiresAtMs > this.now()) {
      // A timer capped at MAX_TIMER_MS (sessions of more than 24.8 days): wait again.
      const c = this.clients.get(s.token);
      if (c) c.cancel = this.schedule(Math.min(s.expiresAtMs - this.now(), MAX_TIMER_MS), () => { this.expire(s); });
      return;
    }
    this.close(s).catch((e: unknown) => this.o.onError?.(`deleting the expired session client of ${s.name}: ${(e as Error).message}`));
  }

  private command(cmd: Record<string, unknown> & { command: string }): Promise<DynsecResponse> {
    const id = `spinal-${++this.nextId}`;
    const what = `dynamic security ${cmd.command}${typeof cmd['username'] === 'string' ? ` ${cmd['username']}` : ''}`;
    return new Promise<DynsecResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${what}: no answer from the broker within ${this.o.commandTimeoutMs ?? 5000} ms`));
      }, this.o.commandTimeoutMs ?? 5000);
      this.pending.set(id, {
        timer, reject,
        resolve: (r) => (r.error !== undefined ? reject(new Error(`${what}: ${r.error}`)) : resolve(r)),
      });
      this.admin.publish(DYNSEC_CONTROL_TOPIC, JSON.stringify({ commands: [{ ...cmd, correlationData: id }] }), { qos: 1 }, (e) => {
        if (!e) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(`${what}: ${e.message}`));
      });
    });
  }

  private answer(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      const parsed = JSON.parse(payload.toString('utf8')) as { responses?: unknown };
      responses = Array.isArray(parsed.responses) ? (parsed.responses as DynsecResponse[]) : [];
    } catch {
      this.o.onError?.('an unreadable dynamic security response was ignored');
      return;
    }
    for (const r of responses) {
      const p = typeof r.correlationData === 'string' ? this.pending.get(r.correlationData) : undefined;
      if (!p || typeof r.correlationData !== 'string') continue;
      clearTimeout(p.timer);
      this.pending.delete(r.correlationData);
      p.resolve(r);
    }
  }
}
