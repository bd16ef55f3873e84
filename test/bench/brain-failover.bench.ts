/**
 * Failover of brain replicas behind HAProxy (replica-rig.ts: two `spinal cloud` processes, HAProxy
 * from `spinal haproxy`, robots as CloudLink clients over mutual TLS at 10 Hz).
 *
 * Per fleet size (20 and 200 robots by default; SPINAL_FAILOVER_ROBOTS=20,200):
 * - latency: observation sent → plan received, for the robots through HAProxy and, in the same
 *   run against the same replica, for DIRECT robots connected straight to it (p50/p99);
 * - failover: the second replica is killed (SIGKILL); for each robot it served, the time from the
 *   kill to its first plan from the surviving replica (p50/max), and the time it spent holding
 *   (from its last plan's lapse to the first new plan; 0 for a robot whose plan never lapsed).
 * HAProxy checks every 200 ms with fall 2 (the rig's setting; deployments default to 1 s).
 */
import { fileURLToPath } from 'node:url';
import { waitFor } from '../e2e/link-harness.js';
import { findHaproxy, startReplicaRig, type RobotProbe } from './replica-rig.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const SIZES = (process.env['SPINAL_FAILOVER_ROBOTS'] ?? '20,200').split(',').map(Number);
const DIRECT = 10;
const LATENCY_WINDOW_MS = 3000;
const WAIT_MS = 120_000;
const INTER_MS = 200;
const FALL = 2;

interface Step {
  robots: number;
  moved: number;
  viaP50: number;
  viaP99: number;
  directP50: number;
  directP99: number;
  failoverP50: number;
  failoverMax: number;
  held: number;
  heldP50: number;
  heldMax: number;
  markedDownMs: number;
  /** Failed connection attempts and Hello timeouts of the moved robots during the failover. */
  connectFailures: number;
  helloTimeouts: number;
  /** Plans accepted per observation sent over the latency window (all robots): below 1, the fleet is not kept up with. */
  answered: number;
  /** Sessions beyond the first, summed over robots, before the kill (a replica marked down while busy would show here). */
  earlyReconnects: number;
}

async function step(cli: string, haproxy: string, n: number): Promise<Step> {
  const rig = await startReplicaRig({ cli, haproxy, replicas: 2, robots: n, directRobots: DIRECT, interMs: INTER_MS, fall: FALL, rise: 2 });
  try {
    const everyone = [...rig.robots, ...rig.direct];
    await waitFor('every robot served', () => everyone.every((p) => p.replica !== null && p.servedBy(p.replica)), WAIT_MS);
    const [first, second] = rig.replicas.map((r) => r.name) as [string, string];
    // Latency window: HAProxy's robots on the first replica against the direct ones (also there).
    for (const p of everyone) p.roundTrips.length = 0;
    const sent0 = everyone.reduce((a, p) => a + p.link.health().observationsSent, 0);
    await new Promise((r) => setTimeout(r, LATENCY_WINDOW_MS));
    const sent = everyone.reduce((a, p) => a + p.link.health().observationsSent, 0) - sent0;
    const answered = everyone.reduce((a, p) => a + p.roundTrips.length, 0) / Math.max(1, sent);
    const via = stats(rig.on(first).flatMap((p) => p.roundTrips));
    const direct = stats(rig.direct.flatMap((p) => p.roundTrips));
    // Failover: the second replica dies.
    const moved: RobotProbe[] = rig.on(second);
    const earlyReconnects = rig.robots.reduce((a, p) => a + p.sessions.length - 1, 0);
    for (const p of moved) p.heldMs = 0;
    const failures = (): [number, number] => moved.reduce<[number, number]>((a, p) => { const h = p.link.health(); return [a[0] + h.connectFailures, a[1] + h.helloTimeouts]; }, [0, 0]);
    const [cf0, ht0] = failures();
    const victim = rig.replicas[1];
    const killedAt = performance.now();
    victim?.child.kill('SIGKILL');
    let markedDownAt = Number.NaN;
    const down = (async (): Promise<void> => {
      await waitFor('HAProxy marks the dead replica down', async () => (await rig.serverStates()).get(second) === 0, WAIT_MS);
      markedDownAt = performance.now();
    })();
    await waitFor('every robot of the dead replica served by the survivor', () => moved.every((p) => p.servedBy(first)), WAIT_MS);
    await down;
    const failover = stats(moved.map((p) => (p.firstPlanAt as number) - killedAt));
    const [cf1, ht1] = failures();
    const heldRobots = moved.filter((p) => p.heldMs > 0);
    const held = stats(heldRobots.map((p) => p.heldMs));
    return {
      robots: n, moved: moved.length, viaP50: via.median, viaP99: via.p99, directP50: direct.median, directP99: direct.p99,
      failoverP50: failover.median, failoverMax: failover.max, held: heldRobots.length, heldP50: heldRobots.length > 0 ? held.median : 0,
      heldMax: heldRobots.length > 0 ? held.max : 0, markedDownMs: markedDownAt - killedAt,
      connectFailures: cf1 - cf0, helloTimeouts: ht1 - ht0, answered, earlyReconnects,
    };
  } finally {
    await rig.close();
  }
}

export const scenario: Scenario = {
  name: 'brain-failover',
  description: 'two brain replicas behind HAProxy: one killed, time until its robots get plans from the other, time held; HAProxy latency against direct',
  async run(): Promise<BenchResult> {
    const haproxy = findHaproxy();
    if (haproxy === null) throw new Error('brain-failover needs haproxy (Debian package "haproxy"; .ci/run installs it)');
    const cli = fileURLToPath(new URL('../../bin/spinal.js', import.meta.url));
    if (!cli.includes('/dist/')) throw new Error('run the benchmark from dist/ (npm run bench -- brain-failover)');
    const steps: Step[] = [];
    for (const n of SIZES) steps.push(await step(cli, haproxy, n));
    const rows: Cell[][] = steps.map((s) => [
      s.robots, s.answered, s.earlyReconnects, s.moved, s.viaP50, s.viaP99, s.directP50, s.directP99, s.viaP50 - s.directP50, s.viaP99 - s.directP99,
      s.markedDownMs, s.failoverP50, s.failoverMax, s.held, s.heldP50, s.heldMax, s.connectFailures, s.helloTimeouts,
    ]);
    const summary: Record<string, number> = {};
    for (const s of steps) {
      summary[`failover p50 ms @${s.robots}`] = s.failoverP50;
      summary[`failover max ms @${s.robots}`] = s.failoverMax;
      summary[`held max ms @${s.robots}`] = s.heldMax;
      summary[`HAProxy added p50 ms @${s.robots}`] = s.viaP50 - s.directP50;
      summary[`HAProxy added p99 ms @${s.robots}`] = s.viaP99 - s.directP99;
    }
    return {
      scenario: 'brain-failover',
      title: `2 replicas behind HAProxy (check every ${INTER_MS} ms, fall ${FALL}), robots at 10 Hz over mTLS, ${DIRECT} direct robots as the latency peer`,
      columns: ['robots', 'plans/obs', 'reconnects before kill', 'moved', 'via HAProxy p50 ms', 'p99 ms', 'direct p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms',
        'marked down ms', 'failover p50 ms', 'failover max ms', 'robots that held', 'held p50 ms', 'held max ms', 'connect failures', 'hello timeouts'],
      rows,
      summary,
      notes: [
        'latency: observation send to plan receipt in the robot process, same replica, same run; all processes share this machine\'s cores',
        'failover: SIGKILL of a replica to each of its robots\' first plan from the other replica (reconnect backoff, HAProxy redispatch, TLS, Hello, first plan)',
        'held: a robot holds from the lapse of its last plan (planValidityMs 1000) until its first new plan',
        'plans/obs: accepted plans per observation sent before the kill; well below 1 means the machine did not keep up with the fleet (a plan older than 1 s is refused by the edge)',
      ],
    };
  },
};
