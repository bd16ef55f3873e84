/**
 * Two `spinal cloud` replicas behind a real HAProxy (the configuration `spinal haproxy` writes),
 * 20 robots played by the edge's CloudLink over mutual TLS through the balancer.
 *
 * - kill -9 of the replica serving robots: every robot of it reconnects through HAProxy and is
 *   ACTIVE (getting plans) on the other replica with its task, no operator involved; no robot ever
 *   has two sessions open or takes a plan outside its one session; HAProxy marks the dead one down.
 * - SIGTERM (drain): the replica answers 503, HAProxy marks it down, and only then are its robots
 *   sent away; every one of them has left before the replica exits and is served by the other.
 *
 * Tasks are set on both replicas through the Operator service (each replica keeps its own).
 * HAProxy is Debian's package (`.ci/run` installs it); without it the file skips outside CI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SPINAL_CLI } from './spinal-cli.js';
import { findHaproxy, startReplicaRig, until, type ReplicaRig } from '../bench/replica-rig.js';

const HAPROXY = findHaproxy();
if (HAPROXY === null && process.env.CI) throw new Error('CI must have haproxy (see .ci/run)');

const ROBOTS = 20;
/** Waiting limits only (a loaded 2-core machine starts Node processes slowly); the failover time is the benchmark's. */
const WAIT_MS = 60_000;

let rig: ReplicaRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

async function startRig(): Promise<ReplicaRig> {
  rig = await startReplicaRig({ cli: SPINAL_CLI, haproxy: HAPROXY as string, replicas: 2, robots: ROBOTS, interMs: 200, fall: 2, rise: 2 });
  const r = rig;
  await until('every robot served with its task', () => r.robots.every((p) => p.replica !== null && p.servedBy(p.replica) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
  return r;
}

/** The replica serving most robots (leastconn spreads them). */
function busiest(r: ReplicaRig): string {
  const [a, b] = r.replicas.map((x) => r.on(x.name).length) as [number, number];
  return (a >= b ? r.replicas[0] : r.replicas[1])?.name as string;
}

function expectCleanHistories(r: ReplicaRig): void {
  for (const p of r.robots) {
    expect(p.violations, p.id).toEqual([]);
    // One session at a time: every session id is new, and the robot never went back to a replica it left.
    expect(new Set(p.sessions).size, p.id).toBe(p.sessions.length);
  }
}

describe.skipIf(HAPROXY === null)('brain replicas behind HAProxy', () => {
  it('kill -9 of a replica: its robots resume their tasks on the other one through the balancer', async () => {
    const r = await startRig();
    const victim = busiest(r);
    const other = r.replicas.find((x) => x.name !== victim)?.name as string;
    const moved = r.on(victim);
    expect(moved.length).toBeGreaterThan(0);
    const stayed = r.on(other);
    const dead = r.replicas.find((x) => x.name === victim);
    dead?.child.kill('SIGKILL');
    await dead?.exited;
    await until(`every robot ACTIVE on ${other} with its task`, () => r.robots.every((p) => p.servedBy(other) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
    await until(`HAProxy to mark ${victim} down`, async () => (await r.serverStates()).get(victim) === 0, WAIT_MS);
    expect((await r.serverStates()).get(other)).toBe(2);
    expectCleanHistories(r);
    for (const p of moved) {
      // Served by the dead replica, then by the other one: two sessions, in that order.
      expect(p.sessions.map((s) => s.slice(0, s.lastIndexOf('-s'))), p.id).toEqual([victim, other]);
      expect(p.plansFrom.get(other), p.id).toBeGreaterThan(0);
    }
    // The survivors' robots were not disturbed.
    for (const p of stayed) expect(p.sessions, p.id).toHaveLength(1);
  }, 180_000);

  it('SIGTERM drains a replica: 503, marked down by HAProxy, then its robots move over before it exits', async () => {
    const r = await startRig();
    const victim = busiest(r);
    const other = r.replicas.find((x) => x.name !== victim)?.name as string;
    const moved = r.on(victim);
    expect(moved.length).toBeGreaterThan(0);
    const draining = r.replicas.find((x) => x.name === victim);
    draining?.child.kill('SIGTERM');
    await draining?.exited;
    // The replica sent its robots away only after HAProxy had seen `fall` 503s (no timeout warning).
    const log = draining?.log ?? [];
    const sentAway = log.findIndex((l) => l['msg'] === 'draining: sending robots to another replica');
    expect(sentAway).toBeGreaterThan(log.findIndex((l) => String(l['msg']).startsWith('draining: /healthz answers 503')));
    expect(log.some((l) => String(l['msg']).includes('did not check /healthz enough times'))).toBe(false);
    expect(log.some((l) => l['msg'] === 'brain stopped')).toBe(true);
    expect(draining?.child.exitCode).toBe(0);
    // Every robot of the draining replica had left it before it exited.
    for (const p of moved) expect(p.sessionEndedAt, p.id).toBeLessThanOrEqual(draining?.exitedAt as number);
    expect((await r.serverStates()).get(victim)).toBe(0);
    await until(`every robot ACTIVE on ${other} with its task`, () => r.robots.every((p) => p.servedBy(other) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
    expectCleanHistories(r);
    for (const p of moved) expect(p.sessions.map((s) => s.slice(0, s.lastIndexOf('-s'))), p.id).toEqual([victim, other]);
  }, 180_000);
});
