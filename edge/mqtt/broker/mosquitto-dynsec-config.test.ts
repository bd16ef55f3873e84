import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aclRules, accountRoleName, dynsecAcls, sessionClientExpiry, sessionClientName } from '../../../proto/mqtt/index.js';
import { lookupUser } from './file-access.js';
import { dynsecClient, renderDynsecConfig } from './mosquitto-dynsec-config.js';
import { writeMosquittoConfig } from './mosquitto-config.js';

const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'p1' }], operators: [{ name: 'alice', password: 'alice-pw' }], viewers: [{ name: 'vic', password: 'vic-pw' }] };
const admin = { username: 'spinal-dashboard', password: 'a-long-random-admin-secret' };
const dir = mkdtempSync(join(tmpdir(), 'spinal-dynsec-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hasUser(name: string): boolean {
  try { lookupUser(name); return true; } catch { return false; }
}

describe('Mosquitto dynamic security configuration', () => {
  it('gives every account a role with its own rules, robots and the admin a client, operators and viewers none', () => {
    const c = renderDynsecConfig(accounts, admin);
    expect(c.clients.map((x) => [x.username, x.roles])).toEqual([
      ['spinal-dashboard', [{ rolename: 'spinal-dashboard-admin' }]],
      ['r1', [{ rolename: 'spinal-acl-r1' }]],
    ]);
    for (const [username, role] of [['r1', 'robot'], ['alice', 'operator'], ['vic', 'viewer']] as const) {
      expect(c.roles.find((r) => r.rolename === accountRoleName(username))?.acls).toEqual(dynsecAcls(aclRules({ username, role, fleet: 'f' })));
    }
    // The operator's role writes resets only under her own name.
    const alice = c.roles.find((r) => r.rolename === 'spinal-acl-alice')?.acls ?? [];
    expect(alice.filter((a) => a.acltype === 'publishClientSend').map((a) => a.topic)).toContain('spinal/v1/f/+/cmd/reset/alice');
    expect(alice.some((a) => a.topic.includes('reset/') && !a.topic.endsWith('/alice'))).toBe(false);
    expect(c.defaultACLAccess).toEqual({ publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true });
    // Operators' and viewers' passwords are nowhere in the file, not even hashed.
    const text = JSON.stringify(c);
    for (const pw of ['alice-pw', 'vic-pw']) expect(text).not.toContain(pw);
  });

  it('gives a brain account a client of its own and a role with the task topics only', () => {
    const c = renderDynsecConfig({ ...accounts, brains: [{ name: 'brain', password: 'brain-pw' }] }, admin);
    expect(c.clients.map((x) => x.username)).toEqual(['spinal-dashboard', 'r1', 'brain']);
    const acls = c.roles.find((r) => r.rolename === accountRoleName('brain'))?.acls ?? [];
    expect(acls).toEqual(dynsecAcls(aclRules({ username: 'brain', role: 'brain', fleet: 'f' })));
    expect(new Set(acls.map((a) => a.topic))).toEqual(new Set(['spinal/v1/f/+/task']));
  });

  it('hashes client passwords as the plugin checks them (PBKDF2-SHA512, 64 bytes)', () => {
    const salt = Buffer.alloc(12, 3);
    const c = dynsecClient('r1', 'secret', 'role', 'text', salt, 101);
    expect(c).toMatchObject({ salt: salt.toString('base64'), iterations: 101, password: pbkdf2Sync('secret', salt, 101, 64, 'sha512').toString('base64') });
  });

  it('refuses a short admin password or an admin named like an account, naming it', () => {
    expect(() => renderDynsecConfig(accounts, { username: 'x', password: 'short' })).toThrow(/5 characters/);
    expect(() => renderDynsecConfig(accounts, { username: 'alice', password: admin.password })).toThrow(/"alice" is also a fleet account/);
  });

  it('writes the plugin lines instead of passwd and acl', () => {
    const files = writeMosquittoConfig({ ...accounts, dir, port: 18830, dynamicSecurity: { admin, plugin: '/opt/dynsec.so' } });
    const conf = readFileSync(files.conf, 'utf8');
    expect(conf).toMatch(/^plugin \/opt\/dynsec\.so\nplugin_opt_config_file .*dynamic-security\.json$/m);
    expect(conf).not.toMatch(/^(password_file|acl_file) /m);
    expect(files.passwd).toBeUndefined();
    expect(statSync(files.dynsec as string).mode & 0o777).toBe(0o600);
  });

  it('names session clients with their expiry and reads it back', () => {
    const name = sessionClientName(1_800_000_000_500, 'abcdefgh12');
    expect(name).toBe('spinal-session-1800000001-abcdefgh12');
    expect(sessionClientExpiry(name)).toBe(1_800_000_001_000);
    expect(sessionClientExpiry('r1')).toBeNull();
    expect(() => sessionClientName(0, 'a/b')).toThrow(/"a\/b"/);
  });

  // Mosquitto started as root drops to its user before it opens these files (see file-access.ts).
  it.runIf(process.getuid?.() === 0 && hasUser('mosquitto'))('run as root, hands the folder and files to the broker\'s user', () => {
    const own = join(dir, 'handed');
    const hidden = writeMosquittoConfig({ ...accounts, dir: own, port: 18830, runAsUser: 'mosquitto', dynamicSecurity: { admin, plugin: '/opt/dynsec.so' } });
    // mkdtemp's folder is 0700: the broker's user could not even reach the files, and is told so once.
    expect(hidden.warnings).toEqual([`mosquitto cannot enter ${dir}: mosquitto started as root drops to mosquitto before it opens it`]);
    chmodSync(dir, 0o711);
    const files = writeMosquittoConfig({ ...accounts, dir: own, port: 18830, runAsUser: 'mosquitto', dynamicSecurity: { admin, plugin: '/opt/dynsec.so' } });
    const uid = lookupUser('mosquitto').uid;
    for (const p of [own, files.conf, files.dynsec as string]) expect(statSync(p).uid).toBe(uid);
    expect(files.warnings).toEqual([]);
    const tlsFiles = writeMosquittoConfig({ ...accounts, dir: join(dir, 'tls'), port: 18830, runAsUser: 'mosquitto', tls: { certfile: join(dir, 'no-such.pem'), keyfile: files.conf } });
    expect(tlsFiles.warnings.join('\n')).toMatch(/no-such\.pem/);
  });
});
