/**
 * Dashboard logins: the fleet's operators and viewers, with the passwords they use on the broker.
 * Only SHA-256 digests stay in memory; comparison is constant-time over equal-length digests, and
 * an unknown name costs the same digest as a known one (no user enumeration by timing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FleetAccountsFile } from '../../proto/mqtt/index.js';

export type DashboardRole = 'operator' | 'viewer';

export interface DashboardUser {
  name: string;
  role: DashboardRole;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const NOBODY = digest('\u0000no such user\u0000');

export class DashboardUsers {
  private readonly users = new Map<string, { role: DashboardRole; hash: Buffer }>();

  constructor(accounts: Pick<FleetAccountsFile, 'operators' | 'viewers'>) {
    for (const o of accounts.operators) this.users.set(o.name, { role: 'operator', hash: digest(o.password) });
    for (const v of accounts.viewers) this.users.set(v.name, { role: 'viewer', hash: digest(v.password) });
  }

  get size(): number {
    return this.users.size;
  }

  /** The user when name and password match; null otherwise. */
  verify(name: string, password: string): DashboardUser | null {
    const u = this.users.get(name);
    const ok = timingSafeEqual(u?.hash ?? NOBODY, digest(password));
    return u && ok ? { name, role: u.role } : null;
  }
}
