import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardServer, type DashboardBrain } from './dashboard-server.js';
import { DashboardUsers } from './users.js';

const users = new DashboardUsers({ operators: [{ name: 'olga', password: 'op-secret' }], viewers: [{ name: 'vic', password: 'view-secret' }] });

class FakeBrain implements DashboardBrain {
  readonly tasks: [string, string][] = [];
  setTask(robotId: string, instruction: string): { taskId: string; instruction: string } {
    this.tasks.push([robotId, instruction]);
    return { taskId: `t${this.tasks.length}`, instruction };
  }
  sessions(): ReturnType<DashboardBrain['sessions']> {
    return [{ robotId: 'r1', sessionId: 's1', profileId: 'arm6-gripper', taskId: 't1', instruction: 'wave', observations: 10, plans: 9, errors: 0, connectedSinceUs: 0, backendStatus: 'subtask 1/2: raise the arm' }];
  }
}

let server: DashboardServer | null = null;
afterEach(async () => { await server?.close(); server = null; });

async function start(brain: DashboardBrain | null = new FakeBrain()): Promise<{ base: string; brain: DashboardBrain | null }> {
  server = await DashboardServer.start({ fleet: 'f', robots: ['r1', 'r2'], users, mqttUrl: 'ws://127.0.0.1:9001/mqtt', brain });
  return { base: server.url.replace(/\/$/, ''), brain };
}

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function login(base: string, username: string, password: string): Promise<string> {
  const res = await post(base, '/api/login', { username, password });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie') ?? '';
  expect(cookie).toMatch(/^spinal_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  return cookie.split(';')[0] as string;
}

describe('dashboard HTTP server', () => {
  it('serves the page, the client modules and the vendored uPlot with a strict CSP, and no test files', async () => {
    const { base } = await start();
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    for (const src of [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] as string)) {
      const res = await fetch(`${base}${src}`);
      expect(res.status, src).toBe(200);
      expect(res.headers.get('content-type'), src).toMatch(/^(text\/javascript|text\/css)/);
    }
    const etag = page.headers.get('etag') ?? '';
    expect((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${base}/telemetry-worker.js`)).status).toBe(200);
    expect((await fetch(`${base}/fleet-model.test.ts`)).status).toBe(404);
    const missing = await fetch(`${base}/../../etc/passwd`);
    expect(missing.status).toBe(404);
  });

  it('serves the browser client from assetsDir when given one (the bench measures an older page so)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spinal-dash-assets-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>older page</title>');
      writeFileSync(join(dir, 'app.js'), 'export const older = true;');
      server = await DashboardServer.start({ fleet: 'f', robots: ['r1'], users, mqttUrl: 'ws://127.0.0.1:9001/mqtt', brain: null, assetsDir: dir });
      const base = server.url.replace(/\/$/, '');
      await expect((await fetch(`${base}/`)).text()).resolves.toContain('older page');
      await expect((await fetch(`${base}/app.js`)).text()).resolves.toBe('export const older = true;');
      expect((await fetch(`${base}/telemetry-worker.js`)).status).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs an operator in with the MQTT credentials and tells the page its role, fleet and broker URL', async () => {
    const { base } = await start();
    const cookie = await login(base, 'olga', 'op-secret');
    const me = await (await fetch(`${base}/api/session`, { headers: { cookie } })).json() as Record<string, unknown>;
    expect(me).toMatchObject({ user: 'olga', role: 'operator', fleet: 'f', mqttUrl: 'ws://127.0.0.1:9001/mqtt', robots: ['r1', 'r2'] });
    expect((await fetch(`${base}/api/session`)).status).toBe(401);
  });

  it('refuses a wrong password naming the user, and locks an address out after five failures', async () => {
    const { base } = await start();
    const bad = await post(base, '/api/login', { username: 'olga', password: 'nope' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toBe('wrong username or password for "olga"');
    expect((await post(base, '/api/login', { username: 'nobody', password: 'x' })).status).toBe(401);
    for (let i = 0; i < 3; i++) await post(base, '/api/login', { username: 'olga', password: 'nope' });
    const locked = await post(base, '/api/login', { username: 'olga', password: 'op-secret' });
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as { error: string }).error).toMatch(/too many failed logins from .*; try again in \d+ s/);
  });

  it('names what is wrong with a malformed login', async () => {
    const { base } = await start();
    const notJson = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(notJson.status).toBe(415);
    const broken = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/^body is not valid JSON/);
    const missing = await post(base, '/api/login', { username: 'olga' });
    expect(((await missing.json()) as { error: string }).error).toBe('password must be a non-empty string (got nothing)');
    const huge = await post(base, '/api/login', { username: 'olga', password: 'x'.repeat(20_000) });
    expect(huge.status).toBe(413);
  });

  it('lets operators set a task through the brain; viewers, strangers and unknown robots are refused', async () => {
    const { base, brain } = await start();
    const op = await login(base, 'olga', 'op-secret');
    const ok = await post(base, '/api/robots/r1/task', { instruction: '  wave ' }, { cookie: op });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ robot: 'r1', taskId: 't1', instruction: 'wave' });
    expect((brain as FakeBrain).tasks).toEqual([['r1', 'wave']]);

    const viewer = await login(base, 'vic', 'view-secret');
    const refused = await post(base, '/api/robots/r1/task', { instruction: 'home' }, { cookie: viewer });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('vic is a viewer: only operators set tasks');
    expect((await post(base, '/api/robots/r1/task', { instruction: 'home' })).status).toBe(401);
    const unknown = await post(base, '/api/robots/r9/task', { instruction: 'home' }, { cookie: op });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('robot "r9" is not in this fleet');
    expect((await post(base, '/api/robots/r1/task', { instruction: '   ' }, { cookie: op })).status).toBe(400);
    expect((brain as FakeBrain).tasks).toHaveLength(1);
  });

  it('answers 503 with the store\'s reason when the brain cannot store the task', async () => {
    const unavailable: DashboardBrain = {
      setTask: () => Promise.reject(Object.assign(new Error('task store: the MQTT broker mqtt://b:1883 is not connected (ECONNREFUSED); the task was not stored'), { name: 'TaskStoreUnavailable' })),
      sessions: () => [],
    };
    const { base } = await start(unavailable);
    const op = await login(base, 'olga', 'op-secret');
    const r = await post(base, '/api/robots/r1/task', { instruction: 'wave' }, { cookie: op });
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toMatch(/^task store: the MQTT broker mqtt:\/\/b:1883 is not connected/);
  });

  it('refuses cross-origin posts, ends a session at logout, and lists the brain\'s sessions', async () => {
    const { base } = await start();
    const op = await login(base, 'olga', 'op-secret');
    const cross = await post(base, '/api/robots/r1/task', { instruction: 'wave' }, { cookie: op, origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    const robots = await (await fetch(`${base}/api/robots`, { headers: { cookie: op } })).json();
    expect(robots).toEqual({ robots: ['r1', 'r2'], brain: [{ robot: 'r1', session: 's1', profile: 'arm6-gripper', task: 'wave', status: 'subtask 1/2: raise the arm', observations: 10, plans: 9, errors: 0 }] });
    expect((await post(base, '/api/logout', {}, { cookie: op })).status).toBe(204);
    expect((await fetch(`${base}/api/session`, { headers: { cookie: op } })).status).toBe(401);
  });

  it('answers 503 for a task without a brain, and refuses to start with nobody to log in or a bad broker URL', async () => {
    const { base } = await start(null);
    const op = await login(base, 'olga', 'op-secret');
    expect((await post(base, '/api/robots/r1/task', { instruction: 'wave' }, { cookie: op })).status).toBe(503);
    await expect(DashboardServer.start({ fleet: 'f', robots: [], users: new DashboardUsers({ operators: [], viewers: [] }), mqttUrl: 'ws://h:1/mqtt' }))
      .rejects.toThrow(/no operators or viewers/);
    await expect(DashboardServer.start({ fleet: 'f', robots: [], users, mqttUrl: 'mqtt://h:1883' }))
      .rejects.toThrow('dashboard mqttUrl "mqtt://h:1883" must be a ws:// or wss:// URL');
  });
});
