/**
 * The contract between `spinal mosquitto --dynamic-security` (which writes Mosquitto's dynamic
 * security plugin configuration) and the dashboard (which adds and removes one broker client per
 * login session through the plugin's control topic). Both sides name roles and session clients
 * the same way from here, and both translate acl.ts's rules with dynsecAcls(), so the ACL matrix
 * is the one the embedded broker and the acl_file set-up enforce.
 *
 * Roles: one per account (`spinal-acl-<username>`), holding exactly that account's rules, so a
 * session client given an operator's role may reset or resume only under that operator's name.
 * Mosquitto 2.0.11's plugin has no %u/%c substitution in its ACLs (a `%u` topic grants nothing:
 * checked against the broker), hence a role per account rather than one per kind.
 */
import { aclRules, type AclRule, type Identity } from './acl.js';

/** The plugin's command topic; answers come on `${DYNSEC_CONTROL_TOPIC}/response`. */
export const DYNSEC_CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_CONTROL_TOPIC}/response`;
/** The role of the dashboard's administrative client: the control topic and nothing else. */
export const DYNSEC_ADMIN_ROLE = 'spinal-dashboard-admin';
/** Session clients are named `spinal-session-<expiry, unix s>-<random>`, so any dashboard can sweep expired ones. */
export const SESSION_CLIENT_PREFIX = 'spinal-session-';

export type DynsecAclType = 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'subscribeLiteral' | 'unsubscribePattern' | 'unsubscribeLiteral';

export interface DynsecAcl {
  acltype: DynsecAclType;
  topic: string;
  allow: boolean;
  priority?: number;
}

/** The role whose ACLs are `username`'s rules. */
export function accountRoleName(username: string): string {
  return `spinal-acl-${username}`;
}

/**
 * acl.ts's rules as plugin ACLs: a write is publishClientSend; a read is both subscribePattern
 * (the plugin matches a subscription's filter against the pattern as Mosquitto's acl_file does)
 * and publishClientReceive (delivery is checked too, since the default denies it).
 */
export function dynsecAcls(rules: readonly AclRule[]): DynsecAcl[] {
  return rules.flatMap((r): DynsecAcl[] => r.access === 'write'
    ? [{ acltype: 'publishClientSend', topic: r.filter, allow: true }]
    : [{ acltype: 'subscribePattern', topic: r.filter, allow: true }, { acltype: 'publishClientReceive', topic: r.filter, allow: true }]);
}

/** The role for one account. */
export function accountRole(id: Identity): { rolename: string; textname: string; acls: DynsecAcl[] } {
  return { rolename: accountRoleName(id.username), textname: `${id.role} ${id.username} of fleet ${id.fleet}`, acls: dynsecAcls(aclRules(id)) };
}

/** What the plugin grants when no ACL matches: nothing but unsubscribing. */
export const DYNSEC_DEFAULT_ACCESS = { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true } as const;

/** The admin role's ACLs: send commands, read the answers. */
export const DYNSEC_ADMIN_ACLS: readonly DynsecAcl[] = [
  { acltype: 'publishClientSend', topic: DYNSEC_CONTROL_TOPIC, allow: true },
  { acltype: 'subscribePattern', topic: DYNSEC_RESPONSE_TOPIC, allow: true },
  { acltype: 'publishClientReceive', topic: DYNSEC_RESPONSE_TOPIC, allow: true },
];

/** A session client's username: carries its expiry so that a sweep needs no other state. */
export function sessionClientName(expiresAtMs: number, random: string): string {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(random)) throw new RangeError(`session client suffix ${JSON.stringify(random)} must be 8-64 URL-safe characters`);
  return `${SESSION_CLIENT_PREFIX}${Math.ceil(expiresAtMs / 1000)}-${random}`;
}

/** The expiry (ms) a session client's name carries; null for a name that is not a session client's. */
export function sessionClientExpiry(username: string): number | null {
  const m = /^spinal-session-(\d{1,12})-[A-Za-z0-9_-]{8,64}$/.exec(username);
  return m ? Number(m[1]) * 1000 : null;
}
