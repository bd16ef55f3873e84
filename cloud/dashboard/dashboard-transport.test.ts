/**
 * The dashboard's transport and broker credentials: plaintext only on loopback unless allowed,
 * HTTPS with a Secure cookie when given a certificate, and broker tokens for a live session only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyBrokerToken } from '../../proto/mqtt/index.js';
import { runCerts } from '../security/dev-certs.js';
import { DashboardServer, type DashboardOptions } from './dashboard-server.js';
import { DashboardUsers } from './users.js';

const users = new DashboardUsers({ operators: [{ name: 'olga', password: 'op-secret' }], viewers: [] });
const base: DashboardOptions = { fleet: 'f', robots: ['r1'], users, mqttUrl: 'ws://127.0.0.1:9001/mqtt' };
let dir = '';
const certs = { ca: Buffer.alloc(0), server: { cert: Buffer.alloc(0), key: Buffer.alloc(0) } };
let server: DashboardServer | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spinal-dash-certs-'));
  await runCerts({ out: dir, robots: ['r1'], serverNames: ['127.0.0.1'] });
  certs.ca = readFileSync(join(dir, 'ca.pem'));
  certs.server = { cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server-key.pem')) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Reply { status: number; cookie: string; body: unknown }
/** A JSON POST over HTTPS that trusts only the test CA. */
function post(url: string, body: unknown, cookie = ''): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: certs.ca, headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const setCookie = res.headers['set-cookie']?.[0] ?? '';
        resolve({ status: res.statusCode ?? 0, cookie: setCookie, body: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
afterEach(async () => { await server?.close(); server = null; });

describe('dashboard transport', () => {
  it('refuses plain HTTP off loopback unless allowed, naming the keys; an HTTPS page refuses a plaintext broker off loopback', async () => {
    await expect(DashboardServer.start({ ...base, host: '0.0.0.0' })).rejects.toThrow(/dashboard: refusing to listen in plaintext on "0.0.0.0".*dashboard\.tls \(certFile, keyFile\), or set dashboard\.allowPlaintext/);
    server = await DashboardServer.start({ ...base, host: '0.0.0.0', allowPlaintext: true, port: 0 });
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
    await expect(DashboardServer.start({ ...base, tls: certs.server, mqttUrl: 'ws://10.0.0.5:9001/mqtt' })).rejects.toThrow(/plaintext to a broker off loopback: the HTTPS page needs wss:\/\//);
  });

  it('serves HTTPS with a Secure session cookie, and mints broker tokens only for a live session', async () => {
    const key = randomBytes(32);
    let now = 1_700_000_000_000;
    server = await DashboardServer.start({ ...base, host: '0.0.0.0', tls: certs.server, mqttUrl: 'wss://127.0.0.1:9001/mqtt', now: () => now, sessionTtlMs: 600_000, brokerTokens: { key, ttlMs: 30_000 } });
    const url = server.url.replace('0.0.0.0', '127.0.0.1').replace(/\/$/, '');
    expect(url).toMatch(/^https:/);
    expect((await post(`${url}/api/broker-token`, {})).status).toBe(401);
    const res = await post(`${url}/api/login`, { username: 'olga', password: 'op-secret' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: 'olga', brokerAuth: 'token' });
    expect(res.cookie).toMatch(/; HttpOnly; SameSite=Strict; Secure; Max-Age=600$/);
    const cookie = res.cookie.split(';')[0] as string;
    const t = (await post(`${url}/api/broker-token`, {}, cookie)).body as { username: string; password: string; expiresAt: number };
    expect(t).toMatchObject({ username: 'olga', expiresAt: now + 30_000 });
    expect(verifyBrokerToken(key, t.password, now)).toMatchObject({ ok: true, token: { kind: 'session', user: 'olga', role: 'operator', fleet: 'f', sessionExp: now + 600_000 } });
    expect(t.password).not.toContain('op-secret');
    // Past the session's end: no token (the page stops reconnecting), and the old one is dead at the broker too.
    now += 600_000;
    expect((await post(`${url}/api/broker-token`, {}, cookie)).status).toBe(401);
    expect(verifyBrokerToken(key, t.password, now)).toMatchObject({ ok: false });
  });
});
