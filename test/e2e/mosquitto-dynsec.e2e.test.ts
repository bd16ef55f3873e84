/**
 * Mosquitto with the dynamic security plugin, as `spinal mosquitto --dynamic-security` writes it,
 * and the dashboard adding one broker client per login session (cloud/dashboard/dynsec-sessions.ts):
 * the page's credential connects while the session lives, and at logout or expiry it is refused
 * and a live connection with it is dropped; a session may act only as its own user; operators'
 * own passwords do not exist on the broker; and the ACL matrix is proto/mqtt/acl.ts's, checked
 * topic by topic against MQTT 5 PUBACK and SUBACK reason codes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclRules, mayPublish, maySubscribe, robotTopics, type Identity } from '../../proto/mqtt/index.js';
import { DashboardServer } from '../../cloud/dashboard/dashboard-server.js';
import { DynsecSessions } from '../../cloud/dashboard/dynsec-sessions.js';
import { DashboardUsers } from '../../cloud/dashboard/users.js';
import { findDynsecPlugin, MosquittoProcess } from '../../edge/mqtt/index.js';
import { ACCOUNTS, FLEET, PASSWORDS } from './mqtt-harness.js';
import { waitFor } from './link-harness.js';

const admin = { username: 'spinal-dashboard', password: randomBytes(24).toString('base64url') };
const r1 = robotTopics(FLEET, 'r1');
const r2 = robotTopics(FLEET, 'r2');

interface Credential { username: string; password: string; expiresAt: number }

describe.runIf(findDynsecPlugin() !== null)('Mosquitto dynamic security with per-session clients from the dashboard', () => {
  let dir: string;
  let broker: MosquittoProcess;
  let dashboard: DashboardServer;
  /** Expiry timers the session manager set, run by the tests instead of the clock. */
  const expiries: (() => void)[] = [];
  /** The dashboard's and the session manager's clock. */
  let clock = Date.now();
  const now = (): number => clock;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spinal-dynsec-'));
    broker = await MosquittoProcess.start({ ...ACCOUNTS, dir, websockets: {}, persistence: false, dynamicSecurity: { admin } });
    const brokerSessions = await DynsecSessions.connect({
      url: broker.url, ...admin, sweepMs: 0, now,
      schedule: (_ms, fn) => { expiries.push(fn); return () => undefined; },
    });
    dashboard = await DashboardServer.start({
      fleet: FLEET, robots: ['r1', 'r2'], users: new DashboardUsers({ operators: [...ACCOUNTS.operators], viewers: [...ACCOUNTS.viewers] }), mqttUrl: broker.wsUrl as string, brokerSessions, now, sessionTtlMs: 3600_000,
    });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await dashboard?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(path: string, body: unknown, cookie = ''): Promise<{ status: number; cookie: string; body: unknown }> {
    const res = await fetch(new URL(path, dashboard.url), { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string, body: text ? JSON.parse(text) : null };
  }
  async function login(user: string): Promise<{ cookie: string; credential: Credential; expire: () => void }> {
    const before = expiries.length;
    const res = await post('/api/login', { username: user, password: PASSWORDS[user] });
    expect(res.status).toBe(200);
    expect(expiries).toHaveLength(before + 1);
    const t = await post('/api/broker-token', {}, res.cookie);
    expect(t.status).toBe(200);
    return { cookie: res.cookie, credential: t.body as Credential, expire: expiries[before] as () => void };
  }
  /** MQTT 5 (reason codes in PUBACK and SUBACK), over WebSocket as the page or TCP as a robot. */
  async function connect(username: string, password: string, ws = true): Promise<MqttClient> {
    const c = await connectAsync(ws ? broker.wsUrl as string : broker.url, {
      protocolVersion: 5, username, password, reconnectPeriod: 0, connectTimeout: 3000, clientId: `t-${randomBytes(4).toString('hex')}`,
    }, false);
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }
  const closed = (c: MqttClient): Promise<void> => new Promise((resolve) => { if (!c.connected) resolve(); else c.once('close', () => resolve()); });
  /** The PUBACK's verdict: true when accepted, else the reason code. */
  const publish = (c: MqttClient, topic: string): Promise<true | number> => c.publishAsync(topic, '{}', { qos: 1 })
    .then(() => true as const, (e: { code?: number }) => e.code ?? -1);
  const subscribe = (c: MqttClient, filter: string): Promise<boolean> => c.subscribeAsync(filter, { qos: 1 })
    .then((g) => g.every((x) => x.qos < 0x80), () => false);

  it('the page\'s credential connects while logged in; after logout its live connection is dropped and it is refused', async () => {
    const alice = await login('alice');
    expect(alice.credential.username).toMatch(/^spinal-session-\d+-/);
    expect(alice.credential.password).not.toBe(PASSWORDS['alice']);
    const page = await connect(alice.credential.username, alice.credential.password);
    const robot = await connect('r1', PASSWORDS['r1'] as string, false);
    const atRobot: string[] = [];
    robot.on('message', (topic) => atRobot.push(topic));
    expect(await subscribe(robot, r1.commands)).toBe(true);
    expect(await publish(page, r1.estop)).toBe(true);
    await waitFor('the session\'s e-stop at the robot', () => atRobot.includes(r1.estop));

    const gone = closed(page);
    expect((await post('/api/logout', {}, alice.cookie)).status).toBe(204);
    await gone;
    await expect(connect(alice.credential.username, alice.credential.password)).rejects.toMatchObject({ code: 0x87 });
    expect((await post('/api/broker-token', {}, alice.cookie)).status).toBe(401);
  });

  it('at session expiry the client is deleted: connection dropped, credential refused', async () => {
    const vic = await login('vic');
    const page = await connect(vic.credential.username, vic.credential.password);
    const gone = closed(page);
    vic.expire(); // a timer that fired early (capped, or a clock step) changes nothing
    expect(page.connected).toBe(true);
    clock += 3600_000;
    vic.expire();
    await gone;
    await expect(connect(vic.credential.username, vic.credential.password)).rejects.toMatchObject({ code: 0x87 });
  });

  it('a session client left by a dashboard that crashed is deleted by the next one to start once its session has expired', async () => {
    const bob = await login('bob');
    const page = await connect(bob.credential.username, bob.credential.password);
    // Another dashboard (a replica, or this one restarted) sweeps at start: not yet expired, kept.
    const early = await DynsecSessions.connect({ url: broker.url, ...admin, sweepMs: 0, now });
    await early.stop();
    expect((await connect(bob.credential.username, bob.credential.password)).connected).toBe(true);
    clock += 3601_000; // the name rounds the expiry up to a whole second
    const late = await DynsecSessions.connect({ url: broker.url, ...admin, sweepMs: 0, now });
    await late.stop();
    await closed(page);
    await expect(connect(bob.credential.username, bob.credential.password)).rejects.toMatchObject({ code: 0x87 });
  });

  it('operators\' and viewers\' own passwords do not exist on the broker; robots keep theirs', async () => {
    await expect(connect('alice', PASSWORDS['alice'] as string)).rejects.toMatchObject({ code: 0x87 });
    await expect(connect('vic', PASSWORDS['vic'] as string)).rejects.toMatchObject({ code: 0x87 });
    await expect(connect('r1', 'not-its-password', false)).rejects.toMatchObject({ code: 0x87 });
    expect((await connect('r1', PASSWORDS['r1'] as string, false)).connected).toBe(true);
  });

  it('a session client acts only as its own user: another operator\'s reset and the control topic are refused', async () => {
    const alice = await login('alice');
    const page = await connect(alice.credential.username, alice.credential.password);
    expect(await publish(page, r1.resetBy('alice'))).toBe(true);
    expect(await publish(page, r1.resetBy('bob'))).toBe(0x87);
    expect(await publish(page, r1.resumeBy('bob'))).toBe(0x87);
    expect(await publish(page, '$CONTROL/dynamic-security/v1')).toBe(0x87);
    expect(await subscribe(page, '$CONTROL/dynamic-security/#')).toBe(false);
    await post('/api/logout', {}, alice.cookie);
  });

  it('holds the ACL matrix of proto/mqtt/acl.ts for a robot, an operator\'s session and a viewer\'s session', async () => {
    const topics = [
      r1.status, r1.state, r1.brief, r1.event, r1.estop, r1.heartbeat, r1.resetBy('alice'), r1.resetBy('bob'), r1.resumeBy('alice'), r1.resumeBy('r1'), r1.episodeBy('alice'), r1.episodeBy('vic'),
      r2.state, r2.event, r2.estop, r2.resetBy('alice'),
      `spinal/v1/${FLEET}/all/cmd/heartbeat`, `spinal/v1/${FLEET}/all/cmd/reset/alice`, 'spinal/v1/g/r1/cmd/estop',
    ];
    const filters = [r1.commands, r2.commands, r1.state, `spinal/v1/${FLEET}/#`, `spinal/v1/${FLEET}/+/state`, `spinal/v1/${FLEET}/all/cmd/#`, 'spinal/v1/#', '#'];
    const alice = await login('alice');
    const vic = await login('vic');
    const who: { id: Identity; client: MqttClient }[] = [
      { id: { username: 'r1', role: 'robot', fleet: FLEET }, client: await connect('r1', PASSWORDS['r1'] as string, false) },
      { id: { username: 'alice', role: 'operator', fleet: FLEET }, client: await connect(alice.credential.username, alice.credential.password) },
      { id: { username: 'vic', role: 'viewer', fleet: FLEET }, client: await connect(vic.credential.username, vic.credential.password) },
    ];
    const seen: string[] = [];
    const expected: string[] = [];
    for (const { id, client } of who) {
      const rules = aclRules(id);
      for (const t of topics) {
        seen.push(`${id.username} publish ${t}: ${(await publish(client, t)) === true}`);
        expected.push(`${id.username} publish ${t}: ${mayPublish(rules, t)}`);
      }
      for (const f of filters) {
        seen.push(`${id.username} subscribe ${f}: ${await subscribe(client, f)}`);
        expected.push(`${id.username} subscribe ${f}: ${maySubscribe(rules, f)}`);
      }
    }
    expect(seen).toEqual(expected);
    await post('/api/logout', {}, alice.cookie);
    await post('/api/logout', {}, vic.cookie);
  });
});
