/**
 * Login sessions: an opaque 256-bit token (the cookie) → user, role, expiry. Bounded: past
 * `maxSessions` the oldest session is dropped, so a flood of logins cannot grow memory.
 */
import { randomBytes } from 'node:crypto';
import type { DashboardUser } from './users.js';

export interface Session extends DashboardUser {
  token: string;
  expiresAtMs: number;
}

export class SessionStore {
  private readonly byToken = new Map<string, Session>();

  constructor(readonly ttlMs: number, private readonly now: () => number = Date.now, private readonly maxSessions = 10_000) {
    if (!(ttlMs > 0)) throw new RangeError(`session ttlMs=${ttlMs} must be positive`);
  }

  create(user: DashboardUser): Session {
    const s: Session = { ...user, token: randomBytes(32).toString('base64url'), expiresAtMs: this.now() + this.ttlMs };
    this.byToken.set(s.token, s);
    if (this.byToken.size > this.maxSessions) {
      const oldest = this.byToken.keys().next().value;
      if (oldest !== undefined) this.byToken.delete(oldest);
    }
    return s;
  }

  /** The live session for a token; an expired one is removed and gives null. */
  get(token: string | undefined): Session | null {
    if (token === undefined) return null;
    const s = this.byToken.get(token);
    if (!s) return null;
    if (s.expiresAtMs <= this.now()) {
      this.byToken.delete(token);
      return null;
    }
    return s;
  }

  delete(token: string | undefined): void {
    if (token !== undefined) this.byToken.delete(token);
  }

  get size(): number {
    return this.byToken.size;
  }
}
