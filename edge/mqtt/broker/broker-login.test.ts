/**
 * Logins at the embedded broker: failed passwords are throttled per address and per account (on an
 * injected clock), and a dashboard's broker token logs its user in with that user's rights only,
 * until the token expires, its session ends, or the dashboard revokes the session.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { robotTopics, signBrokerToken, type SessionToken } from '../../../proto/mqtt/index.js';
import { EmbeddedBroker } from './embedded-broker.js';
import { LoginThrottle } from './login-throttle.js';

const ACCOUNTS = {
  fleet: 'f',
  robots: [{ id: 'r1', password: 'r1-secret' }],
  operators: [{ name: 'alice', password: 'alice-secret' }],
  viewers: [{ name: 'vic', password: 'vic-secret' }],
};
const KEY = randomBytes(32);
let broker: EmbeddedBroker | null = null;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await broker?.close();
  broker = null;
});

/** Connects once; resolves with the client, or with the refusal's message. */
async function login(username: string, password: string): Promise<MqttClient | string> {
  try {
    const c = await connectAsync(broker?.url ?? '', { username, password, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 3000 }, false);
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  } catch (e) {
    return (e as Error).message;
  }
}
const ok = (r: MqttClient | string): MqttClient => {
  if (typeof r === 'string') throw new Error(`refused: ${r}`);
  return r;
};
const closed = (c: MqttClient): Promise<void> => new Promise((resolve) => c.once('close', () => resolve()));

describe('LoginThrottle', () => {
  it('locks a key after maxFailures within the window, for lockMs; a success clears only the key given', () => {
    let now = 0;
    const t = new LoginThrottle({ now: () => now, maxFailures: 3, windowMs: 1000, lockMs: 500 });
    t.failed(['a', 'u']);
    t.failed(['a', 'u']);
    expect(t.retryAfterMs(['a'])).toBe(0);
    t.failed(['a', 'u']);
    expect(t.retryAfterMs(['a'])).toBe(500);
    expect(t.retryAfterMs(['x', 'u'])).toBe(500);
    t.succeeded('a');
    expect(t.retryAfterMs(['a'])).toBe(0);
    expect(t.retryAfterMs(['u'])).toBe(500);
    now = 500;
    expect(t.retryAfterMs(['u'])).toBe(0);
    // Failures spread wider than the window never lock.
    for (let i = 0; i < 10; i++) { now += 1001; t.failed(['slow']); }
    expect(t.retryAfterMs(['slow'])).toBe(0);
    expect(() => new LoginThrottle({ maxFailures: 0 })).toThrow(/maxFailures=0/);
  });
});

describe('embedded broker logins', () => {
  it('throttles password guessing per address: after 5 failures even the right password waits out the lock', async () => {
    let now = 1_000_000;
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, now: () => now });
    for (let i = 0; i < 5; i++) expect(await login('alice', `guess-${i}`)).toMatch(/Bad username or password/i);
    expect(await login('alice', 'alice-secret')).toMatch(/Not authorized/i);
    // The address is locked for every account, the password is not even checked.
    expect(await login('vic', 'vic-secret')).toMatch(/Not authorized/i);
    expect(broker.throttled).toBe(2);
    now += 30_000;
    ok(await login('alice', 'alice-secret'));
  });

  it('throttles per account too: failures against one account from an address that also logs in correctly still lock that account', async () => {
    let now = 1_000_000;
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, now: () => now });
    for (let i = 0; i < 4; i++) expect(typeof await login('alice', `guess-${i}`)).toBe('string');
    ok(await login('vic', 'vic-secret')); // clears this address's count, not alice's
    expect(typeof await login('alice', 'guess-4')).toBe('string');
    expect(await login('alice', 'alice-secret')).toMatch(/Not authorized/i);
    ok(await login('vic', 'vic-secret'));
    now += 30_001;
    ok(await login('alice', 'alice-secret'));
  });

  it('accepts a dashboard token for its own user only, with that user\'s rights; refuses expired, forged and foreign ones', async () => {
    const now = 1_700_000_000_000;
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, now: () => now, tokenKey: KEY });
    const claims: SessionToken = { v: 1, kind: 'session', fleet: 'f', user: 'vic', role: 'viewer', sid: 's'.repeat(22), exp: now + 60_000, sessionExp: now + 3_600_000 };
    const vic = ok(await login('vic', signBrokerToken(KEY, claims)));
    // A viewer's token gives a viewer's rights: a reset under its name closes the connection (aedes).
    const gone = closed(vic);
    vic.publish(robotTopics('f', 'r1').resetBy('vic'), '{}', { qos: 0 });
    await gone;
    expect(broker.denials.at(-1)).toEqual({ username: 'vic', action: 'publish', topic: 'spinal/v1/f/r1/cmd/reset/vic' });
    expect(await login('alice', signBrokerToken(KEY, claims))).toMatch(/Bad username or password/i);
    expect(await login('vic', signBrokerToken(KEY, { ...claims, role: 'operator' }))).toMatch(/Bad username or password/i);
    expect(await login('vic', signBrokerToken(KEY, { ...claims, exp: now }))).toMatch(/Bad username or password/i);
    expect(await login('vic', signBrokerToken(KEY, { ...claims, fleet: 'g' }))).toMatch(/Bad username or password/i);
    expect(await login('vic', signBrokerToken(randomBytes(32), claims))).toMatch(/Bad username or password/i);
    // A broker without the key takes a token for a password, and it is not one.
    await broker.close();
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, now: () => now });
    expect(await login('vic', signBrokerToken(KEY, claims))).toMatch(/Bad username or password/i);
  });

  it('a revocation drops the session\'s live connections and refuses its tokens; other sessions stay', async () => {
    const now = Date.now();
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, tokenKey: KEY });
    const session = (sid: string): SessionToken => ({ v: 1, kind: 'session', fleet: 'f', user: 'alice', role: 'operator', sid, exp: now + 60_000, sessionExp: now + 3_600_000 });
    const token = signBrokerToken(KEY, session('a'.repeat(22)));
    const live = ok(await login('alice', token));
    const other = ok(await login('alice', signBrokerToken(KEY, session('b'.repeat(22)))));
    const dropped = closed(live);
    const receipt = ok(await login('$revoke', signBrokerToken(KEY, { v: 1, kind: 'revoke', fleet: 'f', sid: 'a'.repeat(22), until: now + 3_600_000, at: now })));
    await dropped;
    await closed(receipt); // the broker closes the revoking connection itself
    expect(await login('alice', token)).toMatch(/Bad username or password/i);
    expect(other.connected).toBe(true);
    // A stale revocation (a replay) is not applied.
    expect(await login('$revoke', signBrokerToken(KEY, { v: 1, kind: 'revoke', fleet: 'f', sid: 'b'.repeat(22), until: now + 3_600_000, at: now - 120_000 }))).toMatch(/Bad username or password/i);
    expect(other.connected).toBe(true);
  });

  it('drops a token login when its dashboard session ends', async () => {
    broker = await EmbeddedBroker.start({ ...ACCOUNTS, tokenKey: KEY });
    const now = Date.now();
    const c = ok(await login('vic', signBrokerToken(KEY, { v: 1, kind: 'session', fleet: 'f', user: 'vic', role: 'viewer', sid: 'c'.repeat(22), exp: now + 60_000, sessionExp: now + 300 })));
    await closed(c);
    expect(Date.now()).toBeGreaterThanOrEqual(now + 300);
  });
});
