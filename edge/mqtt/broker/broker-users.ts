/** The broker's accounts: robots (username = robot id), operators, viewers and brains of one fleet. */
import { checkName, type Role } from '../../../proto/mqtt/index.js';

export interface BrokerUser {
  username: string;
  password: string;
  role: Role;
}

export interface FleetAccounts {
  fleet: string;
  robots: readonly { id: string; password: string }[];
  operators: readonly { name: string; password: string }[];
  viewers: readonly { name: string; password: string }[];
  /** Brain replicas' task-store logins (proto/mqtt/acl.ts: task topics only). */
  brains?: readonly { name: string; password: string }[];
}

/** Flattens the accounts; throws naming the value on a bad or duplicate name or an empty password. */
export function brokerUsers(a: FleetAccounts): BrokerUser[] {
  checkName('fleet', a.fleet);
  const users: BrokerUser[] = [
    ...a.robots.map((r) => ({ username: checkName('robot', r.id), password: r.password, role: 'robot' as const })),
    ...a.operators.map((o) => ({ username: checkName('user', o.name), password: o.password, role: 'operator' as const })),
    ...a.viewers.map((v) => ({ username: checkName('user', v.name), password: v.password, role: 'viewer' as const })),
    ...(a.brains ?? []).map((b) => ({ username: checkName('user', b.name), password: b.password, role: 'brain' as const })),
  ];
  const seen = new Set<string>();
  for (const u of users) {
    if (seen.has(u.username)) throw new Error(`broker user ${JSON.stringify(u.username)} is defined twice (usernames are shared by robots, operators, viewers and brains)`);
    if (u.password.length === 0 || u.password.includes('\n')) throw new Error(`broker user ${JSON.stringify(u.username)}: password must be non-empty and on one line`);
    seen.add(u.username);
  }
  return users;
}
