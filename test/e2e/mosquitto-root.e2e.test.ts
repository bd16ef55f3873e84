/**
 * Mosquitto started as root from the files `spinal mosquitto` writes with `user mosquitto`: it
 * drops to that user before it opens the password, ACL and dynamic-security files, so they must be
 * readable by that user (written root-owned with mode 0600 they were not: "Unable to open pwfile").
 * Both set-ups load, and a robot logs in with its password. Runs where the test runs as root and the
 * Debian package's `mosquitto` user exists (CI: both).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { findDynsecPlugin, findMosquitto, MosquittoProcess } from '../../edge/mqtt/index.js';
import { ACCOUNTS, PASSWORDS } from './mqtt-harness.js';

function hasUser(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const runs = process.getuid?.() === 0 && hasUser('mosquitto') && findMosquitto() !== null;
if (!runs && process.env.CI && process.getuid?.() === 0) throw new Error('CI runs as root with Debian\'s mosquitto package: this test must run');

const top = mkdtempSync(join(tmpdir(), 'spinal-mosq-root-'));
// mkdtemp makes a 0700 folder; the broker's user must be able to enter the folders above its own.
chmodSync(top, 0o755);
afterAll(() => rmSync(top, { recursive: true, force: true }));

describe.runIf(runs)('Mosquitto started as root drops to its user and still reads the files spinal mosquitto wrote', () => {
  const modes = [
    { name: 'password and ACL files', dynamicSecurity: undefined },
    ...(findDynsecPlugin() !== null ? [{ name: 'dynamic security', dynamicSecurity: { admin: { username: 'spinal-dashboard', password: 'admin-secret-for-the-test' } } }] : []),
  ];
  for (const mode of modes) {
    it(`${mode.name}: the broker starts and a robot logs in`, async () => {
      const dir = join(top, mode.dynamicSecurity ? 'dynsec' : 'files');
      mkdirSync(dir);
      const broker = await MosquittoProcess.start({ ...ACCOUNTS, dir, persistence: false, runAsUser: 'mosquitto', ...(mode.dynamicSecurity ? { dynamicSecurity: mode.dynamicSecurity } : {}) });
      try {
        const c = await connectAsync(broker.url, { username: 'r1', password: PASSWORDS['r1'] as string, reconnectPeriod: 0, connectTimeout: 3000 });
        expect(c.connected).toBe(true);
        await c.endAsync();
        const refused = await connectAsync(broker.url, { username: 'r1', password: 'wrong', reconnectPeriod: 0, connectTimeout: 3000 }).then(() => 'connected', (e: Error) => e.message);
        expect(refused).toMatch(/Not authorized|Bad username or password/);
      } finally {
        await broker.stop();
      }
    });
  }
});
