/**
 * The broker credential a browser gets instead of a password: a short-lived token bound to its
 * dashboard session (proto/mqtt/broker-token.ts), signed with the key the broker also holds. The
 * page asks for a fresh one before every connection, so a token only has to outlive a CONNECT;
 * none is minted for a session that has ended. At logout the session is revoked at the broker
 * too: the dashboard connects once with a signed revocation as the password (the broker applies
 * it, drops that session's connections and closes this one), so a token copied out of the page
 * stops working at once rather than when it expires.
 */
import { createHash } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { checkTokenKey, signBrokerToken } from '../../proto/mqtt/index.js';
import type { BrokerCredential, SessionBrokerAccess } from './session-broker-access.js';
import type { Session } from './sessions.js';

export interface BrokerCredentialOptions {
  key: Uint8Array;
  fleet: string;
  /** How long a minted token may be used to connect. Default 60 s. */
  ttlMs?: number;
  /** Where the dashboard reaches the broker to revoke (ws://, wss://, mqtt:// or mqtts://). */
  revokeUrl: string;
  /** PEM CA of the broker's certificate, for a wss:// or mqtts:// revokeUrl under a private CA. */
  ca?: Buffer;
  now?: () => number;
}

/** A session's id at the broker: derived from the cookie, which it does not reveal. */
export function sessionId(s: Pick<Session, 'token'>): string {
  return createHash('sha256').update(`spinal broker session\0${s.token}`).digest('base64url').slice(0, 32);
}

export class BrokerCredentials implements SessionBrokerAccess {
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly o: BrokerCredentialOptions) {
    checkTokenKey(o.key, 'dashboard.brokerTokenKeyFile');
    this.now = o.now ?? Date.now;
    this.ttlMs = o.ttlMs ?? 60_000;
    if (!(this.ttlMs >= 1000)) throw new RangeError(`broker token ttlMs=${this.ttlMs} must be at least 1000`);
  }

  /** Tokens need nothing at the broker until logout. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  credential(s: Session): BrokerCredential {
    return this.mint(s);
  }

  close(s: Session): Promise<void> {
    return this.revoke(s);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  mint(s: Session): BrokerCredential {
    const now = this.now();
    const exp = Math.min(now + this.ttlMs, s.expiresAtMs);
    const password = signBrokerToken(this.o.key, { v: 1, kind: 'session', fleet: this.o.fleet, user: s.name, role: s.role, sid: sessionId(s), exp, sessionExp: s.expiresAtMs });
    return { username: s.name, password, expiresAt: exp };
  }

  /** Tells the broker the session is over; rejects with the reason when the broker did not take it. */
  async revoke(s: Session): Promise<void> {
    const now = this.now();
    const password = signBrokerToken(this.o.key, { v: 1, kind: 'revoke', fleet: this.o.fleet, sid: sessionId(s), until: Math.max(s.expiresAtMs, now + this.ttlMs), at: now });
    const client = await connectAsync(this.o.revokeUrl, {
      protocolVersion: 4, username: '$revoke', password, reconnectPeriod: 0, connectTimeout: 3000, clean: true,
      clientId: `dashboard-revoke-${sessionId(s).slice(0, 8)}`,
      ...(this.o.ca !== undefined ? { ca: this.o.ca } : {}),
    }, false);
    client.on('error', () => undefined);
    await client.endAsync(true);
  }
}
