/**
 * The fleet's accounts file (JSON): one source for the embedded broker, the generated Mosquitto
 * password/ACL files and the dashboard's login. Operators and viewers log in to the dashboard with
 * the same name and password they use on the broker, so a dashboard role is exactly an MQTT ACL role.
 *
 * { "fleet": "demo",
 *   "robots":    [{ "id": "robot1", "password": "..." }],
 *   "operators": [{ "name": "alice",  "password": "..." }],
 *   "viewers":   [{ "name": "vic",    "password": "..." }],
 *   "brains":    [{ "name": "brain",  "password": "..." }] }   // the brains' task store (optional)
 */
import { z } from 'zod';
import { NAME_PATTERN } from './topics.js';

const Name = z.string().regex(NAME_PATTERN, 'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
const Password = z.string().min(1, 'must not be empty').refine((p) => !p.includes('\n'), 'must be on one line');

export const FleetAccountsSchema = z.strictObject({
  fleet: Name,
  robots: z.array(z.strictObject({ id: Name, password: Password })).default([]),
  operators: z.array(z.strictObject({ name: Name, password: Password })).default([]),
  viewers: z.array(z.strictObject({ name: Name, password: Password })).default([]),
  brains: z.array(z.strictObject({ name: Name, password: Password })).default([]),
});
export type FleetAccountsFile = z.infer<typeof FleetAccountsSchema>;

export class AccountsError extends Error {
  override readonly name = 'AccountsError';
}

/** Validates a parsed accounts file; every problem names its key (never a password). */
export function parseFleetAccounts(raw: unknown, source: string): FleetAccountsFile {
  const r = FleetAccountsSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new AccountsError(`accounts ${source}: ${problems.join('; ')}`);
  }
  const names = [...r.data.robots.map((x) => x.id), ...r.data.operators.map((x) => x.name), ...r.data.viewers.map((x) => x.name), ...r.data.brains.map((x) => x.name)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new AccountsError(`accounts ${source}: "${dup}" is defined twice (robots, operators, viewers and brains share one namespace)`);
  if (names.includes('all')) throw new AccountsError(`accounts ${source}: "all" is reserved for fleet-wide topics`);
  return r.data;
}
