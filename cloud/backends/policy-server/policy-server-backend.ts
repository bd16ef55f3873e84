/**
 * The part the openpi and GR00T backends share: one connection to the policy server per robot
 * session (policies may keep per-episode state, and both peers answer one request at a time per
 * connection), opened on the session's first observation, reopened after a failure with a
 * doubling back-off (100 ms to 5 s; while it waits, requests fail at once with the reason and the
 * time left), closed when the session ends. Every failure is an answer to that robot only
 * (BACKEND_TIMEOUT for a missed deadline, BACKEND_FAILED otherwise): no plan goes out, so the
 * robot holds when its plan lapses.
 */
import type { BackendPlanKind, BrainBackend, InferContext, InferRequest, InferResult } from '../backend.js';
import type { Hello } from '../../../proto/brain/index.js';

export class PeerError extends Error {
  override readonly name = 'PeerError';
  /** 'timeout' and 'closed' drop the connection; 'bad-reply' and 'server-error' keep it. */
  constructor(message: string, readonly kind: 'unreachable' | 'timeout' | 'closed' | 'server-error' | 'bad-reply') {
    super(message);
  }
}

export interface PolicyPeer<C> {
  /** "openpi", "gr00t". */
  readonly name: string;
  /** Where the server is, for messages. */
  readonly address: string;
  connect(timeoutMs: number): Promise<C>;
  isOpen(c: C): boolean;
  close(c: C): void;
  /** One observation → one result; a PeerError for transport and protocol failures. */
  infer(c: C, r: InferRequest, timeoutMs: number): Promise<InferResult>;
  /** Null when the mapping fits the robot, else why not. */
  accepts(hello: Hello): string | null;
  /** Null when the server is healthy, else why not. */
  health(timeoutMs: number): Promise<string | null>;
  /** Forget what this session left on the server (e.g. GR00T's reset); best effort. */
  endSession?(c: C): void;
}

interface Slot<C> {
  conn: C | null;
  connecting: Promise<C> | null;
  failures: number;
  retryAtMs: number;
  lastError: string;
  ended: boolean;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

export class PolicyServerBackend<C> implements BrainBackend {
  readonly planKind: BackendPlanKind = 'action-chunk';
  private readonly slots = new Map<string, Slot<C>>();
  private readonly dropped = { timeouts: 0, reconnects: 0, 'connect-failures': 0, 'bad-replies': 0, 'server-errors': 0, 'in-backoff': 0 };

  constructor(private readonly peer: PolicyPeer<C>, private readonly connectTimeoutMs: number, private readonly now: () => number = () => performance.now()) {}

  get name(): string {
    return this.peer.name;
  }

  accepts(hello: Hello): string | null {
    return this.peer.accepts(hello);
  }

  health(timeoutMs = 1000): Promise<string | null> {
    return this.peer.health(timeoutMs);
  }

  infer(batch: readonly InferRequest[], ctx: InferContext): Promise<InferResult[]> {
    return Promise.all(batch.map((r) => this.one(r, ctx)));
  }

  counters(): Record<string, number> {
    return { ...this.dropped };
  }

  endSession(sessionId: string): void {
    const s = this.slots.get(sessionId);
    this.slots.delete(sessionId);
    if (s !== undefined) s.ended = true;
    if (s?.conn != null) {
      this.peer.endSession?.(s.conn);
      this.peer.close(s.conn);
    }
    void s?.connecting?.then((c) => this.peer.close(c), () => undefined);
  }

  async close(): Promise<void> {
    for (const id of [...this.slots.keys()]) this.endSession(id);
  }

  private async one(r: InferRequest, ctx: InferContext): Promise<InferResult> {
    const id = r.session.sessionId;
    let s = this.slots.get(id);
    if (s === undefined) {
      s = { conn: null, connecting: null, failures: 0, retryAtMs: 0, lastError: '', ended: false };
      this.slots.set(id, s);
    }
    const started = this.now();
    let conn: C;
    try {
      conn = await this.connection(s, ctx.timeoutMs);
    } catch (e) {
      return this.failed(s, e, null, ctx.timeoutMs);
    }
    const left = Math.max(1, ctx.timeoutMs - (this.now() - started));
    try {
      const result = await this.peer.infer(conn, r, left);
      s.failures = 0;
      return result;
    } catch (e) {
      return this.failed(s, e, conn, ctx.timeoutMs);
    }
  }

  private async connection(s: Slot<C>, timeoutMs: number): Promise<C> {
    if (s.conn !== null && this.peer.isOpen(s.conn)) return s.conn;
    s.conn = null;
    const wait = s.retryAtMs - this.now();
    if (wait > 0) {
      this.dropped['in-backoff']++;
      throw new PeerError(`${s.lastError}; next attempt in ${Math.ceil(wait)} ms`, 'unreachable');
    }
    if (s.connecting === null) {
      if (s.failures > 0) this.dropped.reconnects++;
      s.connecting = this.peer.connect(Math.min(timeoutMs, this.connectTimeoutMs)).finally(() => { s.connecting = null; });
    }
    const c = await s.connecting;
    if (s.ended) {
      this.peer.close(c); // the session ended while connecting
      throw new PeerError('the session ended', 'closed');
    }
    s.conn = c;
    return c;
  }

  private failed(s: Slot<C>, e: unknown, conn: C | null, deadlineMs: number): InferResult {
    const raw = e instanceof PeerError ? e : new PeerError((e as Error).message, 'bad-reply');
    const where = `${this.peer.name} server at ${this.peer.address}`;
    // The deadline is the brain's (backendTimeoutMs), whatever part of it connecting took.
    const pe = raw.kind === 'timeout' ? new PeerError(`the ${where} did not answer within the ${deadlineMs} ms deadline`, 'timeout') : raw;
    if (pe.kind === 'timeout') this.dropped.timeouts++;
    else if (pe.kind === 'bad-reply') this.dropped['bad-replies']++;
    else if (pe.kind === 'server-error') this.dropped['server-errors']++;
    else if (conn === null && !pe.message.includes('next attempt')) this.dropped['connect-failures']++;
    if (pe.kind === 'timeout' || pe.kind === 'closed' || pe.kind === 'unreachable') {
      if (conn !== null) this.peer.close(conn);
      s.conn = null;
      if (!pe.message.includes('next attempt')) {
        s.failures++;
        s.retryAtMs = this.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (s.failures - 1));
        s.lastError = pe.message;
      }
    }
    const message = pe.message.includes(this.peer.name) ? pe.message : `${where}: ${pe.message}`;
    return { ok: false, code: pe.kind === 'timeout' ? 'BACKEND_TIMEOUT' : 'BACKEND_FAILED', message };
  }
}
