/**
 * The dynamic security plugin's configuration file for a fleet (Mosquitto 2.0's
 * mosquitto_dynamic_security.so, shipped in Debian's mosquitto package): robots as clients with
 * their passwords, brains (the brains' task store) likewise, one role per account
 * (proto/mqtt/dynsec.ts), and the dashboard's admin client.
 * Operators and viewers get roles but no clients: their passwords never reach the broker; the
 * dashboard adds a client with a random 128-bit secret per login session and deletes it at
 * logout and expiry (cloud/dashboard/dynsec-sessions.ts).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  DYNSEC_ADMIN_ACLS, DYNSEC_ADMIN_ROLE, DYNSEC_DEFAULT_ACCESS, accountRole, accountRoleName, checkName, type DynsecAcl,
} from '../../../proto/mqtt/index.js';
import { brokerUsers, type FleetAccounts } from './broker-users.js';

/** Where Debian (and the upstream build) install the plugin, per architecture. */
export const DYNSEC_PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

export function findDynsecPlugin(): string | null {
  return DYNSEC_PLUGIN_PATHS.find((p) => existsSync(p)) ?? null;
}

export interface DynsecAdmin {
  username: string;
  password: string;
}

interface DynsecClient {
  username: string;
  textname: string;
  password: string;
  salt: string;
  iterations: number;
  roles: { rolename: string }[];
}

export interface DynsecConfigFile {
  defaultACLAccess: typeof DYNSEC_DEFAULT_ACCESS;
  clients: DynsecClient[];
  groups: never[];
  roles: { rolename: string; textname: string; acls: DynsecAcl[] }[];
}

/** The plugin's password hash: PBKDF2-SHA512, 64 bytes, base64 hash and salt, iterations stored. */
export function dynsecClient(username: string, password: string, rolename: string, textname: string, salt: Buffer = randomBytes(12), iterations = 101): DynsecClient {
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 64, 'sha512');
  return { username, textname, password: hash.toString('base64'), salt: salt.toString('base64'), iterations, roles: [{ rolename }] };
}

/** Throws naming the value on a bad account or admin name, an admin that clashes with an account, or a short admin password. */
export function renderDynsecConfig(accounts: FleetAccounts, admin: DynsecAdmin): DynsecConfigFile {
  const users = brokerUsers(accounts);
  checkName('user', admin.username);
  if (users.some((u) => u.username === admin.username)) throw new Error(`dynamic security admin ${JSON.stringify(admin.username)} is also a fleet account`);
  if (admin.password.length < 20) throw new Error(`dynamic security admin password has ${admin.password.length} characters; give at least 20 random ones`);
  return {
    defaultACLAccess: DYNSEC_DEFAULT_ACCESS,
    clients: [
      dynsecClient(admin.username, admin.password, DYNSEC_ADMIN_ROLE, 'the dashboard: adds and removes session clients'),
      ...users.filter((u) => u.role === 'robot' || u.role === 'brain').map((u) => dynsecClient(u.username, u.password, accountRoleName(u.username), `${u.role} ${u.username}`)),
    ],
    groups: [],
    roles: [
      { rolename: DYNSEC_ADMIN_ROLE, textname: 'dynamic security administration only', acls: [...DYNSEC_ADMIN_ACLS] },
      ...users.map((u) => accountRole({ username: u.username, role: u.role, fleet: accounts.fleet })),
    ],
  };
}
