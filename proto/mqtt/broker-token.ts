/**
 * Broker credentials a dashboard mints for its browsers, so that a page never holds a password.
 *
 *   spt1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "spt1." + base64url(JSON claims)))>
 *
 * The dashboard and the broker share one secret key (a file of at least 32 random bytes). Two kinds:
 * - `session`: sent as the MQTT password with the user's own name as the username. Valid until
 *   `exp` (short: the page fetches a fresh one for every connection) and never past `sessionExp`,
 *   the dashboard session's own end; `sid` names that session without revealing its cookie.
 * - `revoke`: sent by the dashboard when a session ends (logout), so the broker refuses that
 *   session's tokens until `until` and drops its connections.
 * The broker needs no state to check a session token; only revocations are remembered.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { NAME_PATTERN } from './topics.js';

export const BROKER_TOKEN_PREFIX = 'spt1.';
/** Shorter keys are refused: the HMAC is only as strong as the key. */
export const BROKER_TOKEN_MIN_KEY_BYTES = 32;

const Name = z.string().regex(NAME_PATTERN);
const EpochMs = z.number().int().nonnegative();
const Sid = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

export const SessionTokenSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('session'),
  fleet: Name,
  user: Name,
  role: z.enum(['operator', 'viewer']),
  sid: Sid,
  exp: EpochMs,
  sessionExp: EpochMs,
});
export const RevokeTokenSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('revoke'),
  fleet: Name,
  sid: Sid,
  /** The revocation is kept until then (the session's own end: no token of it is valid later). */
  until: EpochMs,
  /** When it was issued; a revocation older than REVOKE_MAX_AGE_MS is refused (no replays much later). */
  at: EpochMs,
});
export type SessionToken = z.infer<typeof SessionTokenSchema>;
export type RevokeToken = z.infer<typeof RevokeTokenSchema>;
export type BrokerToken = SessionToken | RevokeToken;
const BrokerTokenSchema = z.discriminatedUnion('kind', [SessionTokenSchema, RevokeTokenSchema]);

export const REVOKE_MAX_AGE_MS = 60_000;

export class BrokerTokenKeyError extends Error {
  override readonly name = 'BrokerTokenKeyError';
}

/** Throws naming `source` when the key is too short to sign with. */
export function checkTokenKey(key: Uint8Array, source: string): Uint8Array {
  if (key.length < BROKER_TOKEN_MIN_KEY_BYTES) {
    throw new BrokerTokenKeyError(`broker token key ${source} has ${key.length} bytes; at least ${BROKER_TOKEN_MIN_KEY_BYTES} random bytes are needed`);
  }
  return key;
}

const mac = (key: Uint8Array, signed: string): Buffer => createHmac('sha256', key).update(signed).digest();

export function signBrokerToken(key: Uint8Array, claims: BrokerToken): string {
  checkTokenKey(key, '(given)');
  const signed = BROKER_TOKEN_PREFIX + Buffer.from(JSON.stringify(BrokerTokenSchema.parse(claims))).toString('base64url');
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/** True when a password is shaped like a broker token (it is then never tried as a password). */
export function looksLikeBrokerToken(password: string): boolean {
  return password.startsWith(BROKER_TOKEN_PREFIX);
}

export type TokenCheck = { ok: true; token: BrokerToken } | { ok: false; problem: string };

/**
 * Checks the signature, then the claims, then the times against `nowMs`. Never throws; the
 * problem names what failed (never the key, nor the signature).
 */
export function verifyBrokerToken(key: Uint8Array, token: string, nowMs: number): TokenCheck {
  if (!looksLikeBrokerToken(token) || token.length > 2048) return { ok: false, problem: 'not a broker token' };
  const dot = token.lastIndexOf('.');
  const signed = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = mac(key, signed);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, problem: 'bad signature' };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(signed.slice(BROKER_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return { ok: false, problem: 'claims are not JSON' };
  }
  const r = BrokerTokenSchema.safeParse(raw);
  if (!r.success) return { ok: false, problem: `claims: ${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}` };
  const t = r.data;
  if (t.kind === 'session') {
    if (t.exp <= nowMs) return { ok: false, problem: `token expired ${nowMs - t.exp} ms ago` };
    if (t.sessionExp <= nowMs) return { ok: false, problem: `its dashboard session ended ${nowMs - t.sessionExp} ms ago` };
  } else if (Math.abs(nowMs - t.at) > REVOKE_MAX_AGE_MS) {
    return { ok: false, problem: `revocation issued ${nowMs - t.at} ms from now (limit ${REVOKE_MAX_AGE_MS} ms)` };
  }
  return { ok: true, token: t };
}
