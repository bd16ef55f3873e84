import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { robotTopics, topicMatchesFilter } from '../../../proto/mqtt/index.js';
import { brokerUsers } from './broker-users.js';
import { mosquittoPasswordHash, renderAcl, writeMosquittoConfig } from './mosquitto-config.js';

const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'p1' }], operators: [{ name: 'alice', password: 'pa' }], viewers: [{ name: 'vic', password: 'pv' }] };
const dir = mkdtempSync(join(tmpdir(), 'spinal-mosq-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Mosquitto configuration', () => {
  it('hashes passwords in mosquitto_passwd\'s PBKDF2-SHA512 format', () => {
    const salt = Buffer.alloc(12, 7);
    const h = mosquittoPasswordHash('secret', salt);
    const [, kind, iterations, s, hash] = h.split('$');
    expect([kind, iterations, s]).toEqual(['7', '101', salt.toString('base64')]);
    expect(hash).toBe(pbkdf2Sync('secret', salt, 101, 64, 'sha512').toString('base64'));
  });
  it('writes one ACL block per account from the shared rules', () => {
    const acl = renderAcl(accounts);
    expect(acl).toContain('user r1\ntopic write spinal/v1/f/r1/status\ntopic write spinal/v1/f/r1/state\ntopic write spinal/v1/f/r1/brief\ntopic write spinal/v1/f/r1/event\ntopic read spinal/v1/f/r1/cmd/#\ntopic read spinal/v1/f/all/cmd/#');
    expect(acl).toContain('user alice\ntopic read spinal/v1/f/#\ntopic write spinal/v1/f/+/cmd/estop\ntopic write spinal/v1/f/+/cmd/heartbeat\n'
      + 'topic write spinal/v1/f/+/cmd/reset/alice\ntopic write spinal/v1/f/+/cmd/resume/alice\ntopic write spinal/v1/f/+/cmd/episode/alice');
    expect(acl).toContain('user vic\ntopic read spinal/v1/f/#');
  });
  it('lets operators only write a robot\'s resume (as Mosquitto reads the file: write rules per user)', () => {
    const writes = new Map<string, string[]>();
    let user = '';
    for (const line of renderAcl(accounts).split('\n')) {
      const u = /^user (\S+)$/.exec(line);
      if (u) { user = u[1] as string; writes.set(user, []); continue; }
      const w = /^topic (?:write|readwrite) (\S+)$/.exec(line);
      if (w) writes.get(user)?.push(w[1] as string);
    }
    const mayWrite = (who: string, topic: string): boolean => (writes.get(who) ?? []).some((f) => topicMatchesFilter(topic, f));
    const t = robotTopics('f', 'r1');
    expect(mayWrite('alice', t.resumeBy('alice'))).toBe(true);
    expect(mayWrite('alice', t.resumeBy('vic'))).toBe(false);
    expect(mayWrite('r1', t.resumeBy('r1'))).toBe(false);
    expect(mayWrite('vic', t.resumeBy('vic'))).toBe(false);
    expect(mayWrite('alice', t.episodeBy('alice'))).toBe(true);
    expect(mayWrite('vic', t.episodeBy('vic'))).toBe(false);
    expect(renderAcl(accounts)).toMatch(/^user r1\n(?:topic .*\n)*topic read spinal\/v1\/f\/r1\/cmd\/#$/m);
  });
  it('writes conf, passwd and acl readable by the owner only, anonymous access off', () => {
    const files = writeMosquittoConfig({ ...accounts, dir, port: 18830 });
    const conf = readFileSync(files.conf, 'utf8');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(conf).toMatch(/^listener 18830 127\.0\.0\.1$/m);
    expect(conf).toMatch(/^set_tcp_nodelay true$/m);
    expect(readFileSync(files.passwd as string, 'utf8').split('\n')[0]).toMatch(/^r1:\$7\$101\$/);
    expect(statSync(files.passwd as string).mode & 0o777).toBe(0o600);
  });
  it('adds a websockets listener that shares the one password file and ACL', () => {
    const files = writeMosquittoConfig({ ...accounts, dir, port: 18830, websockets: { port: 18831 } });
    const conf = readFileSync(files.conf, 'utf8');
    // Global (not per-listener) auth: one password_file and acl_file, before any listener.
    expect(conf.match(/^password_file /gm)).toHaveLength(1);
    expect(conf.match(/^acl_file /gm)).toHaveLength(1);
    expect(conf).toMatch(/^per_listener_settings false$/m);
    expect(conf.search(/^acl_file /m)).toBeLessThan(conf.search(/^listener /m));
    // Listener-scoped options follow their own listener: the TCP one stays plain MQTT.
    expect(conf).toMatch(/^listener 18830 127\.0\.0\.1\n(?!protocol )/m);
    expect(conf).toMatch(/^listener 18831 127\.0\.0\.1\nprotocol websockets\nsocket_domain ipv4$/m);
    expect(conf.match(/^listener /gm)).toHaveLength(2);
    expect(readFileSync(writeMosquittoConfig({ ...accounts, dir, port: 18830, websockets: { port: 18831, host: '::1' } }).conf, 'utf8'))
      .toMatch(/^listener 18831 ::1\nprotocol websockets\nsocket_domain ipv6$/m);
    expect(readFileSync(writeMosquittoConfig({ ...accounts, dir, port: 18830 }).conf, 'utf8')).not.toMatch(/websockets/);
  });
  it('refuses a websockets listener it cannot bind as asked, naming the value', () => {
    expect(() => writeMosquittoConfig({ ...accounts, dir, port: 18830, websockets: { port: 18831, host: 'localhost' } })).toThrow(/"localhost" must be an IP address/);
    expect(() => writeMosquittoConfig({ ...accounts, dir, host: 'localhost', port: 18830, websockets: { port: 18831 } })).toThrow(/"localhost" must be an IP address/);
    expect(() => writeMosquittoConfig({ ...accounts, dir, port: 18830, websockets: { port: 18830 } })).toThrow(/18830 is also the MQTT port/);
    expect(() => writeMosquittoConfig({ ...accounts, dir, port: 18830, websockets: { port: 70000 } })).toThrow(/websockets port 70000 must be within/);
  });
  it('refuses duplicate usernames and the reserved robot name, naming them', () => {
    expect(() => brokerUsers({ ...accounts, viewers: [{ name: 'alice', password: 'x' }] })).toThrow(/"alice" is defined twice/);
    expect(() => brokerUsers({ ...accounts, robots: [{ id: 'all', password: 'x' }] })).toThrow(/"all" is reserved/);
  });
});
