/**
 * Two `spinal cloud` replicas behind a real HAProxy (the configuration `spinal haproxy` writes),
 * 20 robots played by the edge's CloudLink over mutual TLS through the balancer.
 *
 * - kill -9 of the replica serving robots: every robot of it reconnects through HAProxy and is
 *   ACTIVE (getting plans) on the other replica with its task, no operator involved; no robot ever
 *   has two sessions open or takes a plan outside its one session; HAProxy marks the dead one down.
 *   One more robot is a whole edge daemon on virtual firmware, moving (task "wave"): through the
 *   failover no COMMAND on its wire exceeds a joint's velocity limit or jumps, it holds at most
 *   (plan lapse) and resumes by itself, and the MCU rejects nothing.
 * - SIGTERM (drain): the replica answers 503, HAProxy marks it down, and only then are its robots
 *   sent away; every one of them has left before the replica exits and is served by the other.
 *
 * Tasks live in the replicas' shared task store (an MQTT broker the rig starts): each robot's task
 * is set through one replica only, and robots whose task went through the replica that dies still
 * have it on the survivor.
 * HAProxy is Debian's package (`.ci/run` installs it); without it the file skips outside CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { cpsToRadPerSec, countsToRad, getProfile } from '../../hardware/index.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import type { CommandMsg } from '../../proto/wire/index.js';
import { SPINAL_CLI } from './spinal-cli.js';
import { findHaproxy, replicaOf, startReplicaRig, type ReplicaRig } from '../bench/replica-rig.js';
import { waitFor } from './link-harness.js';

const HAPROXY = findHaproxy();
if (HAPROXY === null && process.env.CI) throw new Error('CI must have haproxy (see .ci/run)');

const ROBOTS = 20;
/** Waiting limits only (a loaded 2-core machine starts Node processes slowly); the failover time is the benchmark's. */
const WAIT_MS = 60_000;

/** The robot run by a whole edge daemon; its number gives it the task "wave" (replica-rig's instructionFor). */
const EDGE_ROBOT = 'edge2';
const EDGE_PROFILE = 'arm6-gripper';

let rig: ReplicaRig | null = null;
let daemon: EdgeDaemon | null = null;
let vrobot: VirtualRobot | null = null;
let dir: string | null = null;
afterEach(async () => {
  await daemon?.close();
  await vrobot?.stop();
  await rig?.close();
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  rig = null; daemon = null; vrobot = null; dir = null;
});

async function startRig(extraRobots: string[] = []): Promise<ReplicaRig> {
  rig = await startReplicaRig({ cli: SPINAL_CLI, haproxy: HAPROXY as string, replicas: 2, robots: ROBOTS, interMs: 200, fall: 2, rise: 2, extraRobots });
  const r = rig;
  await waitFor('every robot served with its task', () => r.robots.every((p) => p.replica !== null && p.servedBy(p.replica) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
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
    const r = await startRig([EDGE_ROBOT]);
    // The edge daemon: virtual firmware on a PTY, its cloud link through HAProxy over mTLS.
    dir = mkdtempSync(join(tmpdir(), 'spinal-ha-edge-'));
    const tty = join(dir, 'robot.tty');
    vrobot = new VirtualRobot({ profile: EDGE_PROFILE, stateRateHz: 500, linkPath: tty });
    await vrobot.start();
    const joints = getProfile(EDGE_PROFILE).joints;
    const tooFast: string[] = [];
    // A jump: a step between consecutive commands larger than the velocity limit allows in the
    // time between them (at least one control tick: commands written together arrive together).
    const TICK_S = 0.01;
    let jumpMax = 0;
    let worstJump = '';
    let prev: { q: number[]; at: number } | null = null;
    vrobot.on('command', (c: CommandMsg) => {
      const at = performance.now() / 1000;
      const q = joints.map((jp, j) => countsToRad(jp, c.position[j] as number));
      joints.forEach((jp, j) => {
        const v = Math.abs(cpsToRadPerSec(jp, c.velocity[j] as number));
        if (v > jp.limits.velocityMax * 1.001) tooFast.push(`joint ${jp.name}: ${v.toFixed(4)} rad/s > ${jp.limits.velocityMax}`);
        if (prev !== null) {
          const allowed = jp.limits.velocityMax * Math.max(TICK_S, at - prev.at);
          const step = Math.abs((q[j] as number) - (prev.q[j] as number));
          if (step / allowed > jumpMax) {
            jumpMax = step / allowed;
            worstJump = `joint ${jp.name}: ${step.toFixed(4)} rad in ${((at - prev.at) * 1000).toFixed(1)} ms, limit ${jp.limits.velocityMax} rad/s`;
          }
        }
      });
      prev = { q, at };
    });
    const tlsFiles = r.robotTlsFiles(EDGE_ROBOT);
    daemon = await startEdgeDaemon(parseEdgeConfig({
      robot: { id: EDGE_ROBOT, profile: EDGE_PROFILE },
      // The test process also runs 20 robots' links and the firmware on two loaded cores: generous stall bounds.
      serial: { path: tty, stateRateHz: 500, watchdogMs: 1000 },
      control: { rateHz: 100, policy: 'crossfade', stepMs: 20, mainStallBoundMs: 1000 },
      cloud: { target: r.address, tls: { ca: tlsFiles.ca, cert: tlsFiles.cert, key: tlsFiles.key }, observationRateHz: 10 },
    }, 'test'), pino({ level: 'silent' }));
    const d = daemon;
    const transitions: string[] = [];
    d.supervisor.on('transition', (e) => transitions.push(`${e.from}>${e.to}:${e.cause}`));
    await waitFor('serial READY, safety IDLE, a plan for the task', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE'
      && d.supervisor.mcuLatch !== 'unknown' && (d.cloud?.currentPlan()?.taskId ?? '') !== '', WAIT_MS);
    expect(d.supervisor.resume({ id: 'op', role: 'operator' })).toBe(true);
    const sentAtResume = d.loop.gate.lastSent.count;
    await waitFor('commands flowing', () => d.loop.gate.lastSent.count > sentAtResume + 50, WAIT_MS);
    transitions.length = 0;
    // The replica serving the edge daemon dies, with the robots it serves.
    const victim = replicaOf(d.cloud?.health().sessionId ?? '');
    const other = r.replicas.find((x) => x.name !== victim)?.name as string;
    const moved = r.on(victim);
    expect(moved.length).toBeGreaterThan(0);
    const stayed = r.on(other);
    const dead = r.replicas.find((x) => x.name === victim);
    dead?.child.kill('SIGKILL');
    await dead?.exited;
    await waitFor(`every robot ACTIVE on ${other} with its task`, () => r.robots.every((p) => p.servedBy(other) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
    // Half the tasks were set through the replica that died: the survivor has them from the shared store.
    const viaVictim = r.robots.filter((p) => r.taskSetThrough(p.id) === victim);
    expect(viaVictim.length).toBeGreaterThanOrEqual(Math.floor(r.robots.length / 2));
    expect(viaVictim.filter((p) => !(p.servedBy(other) && p.instruction === r.instructionFor(p.id))).map((p) => p.id)).toEqual([]);
    await waitFor(`HAProxy to mark ${victim} down`, async () => (await r.serverStates()).get(victim) === 0, WAIT_MS);
    expect((await r.serverStates()).get(other)).toBe(2);
    expectCleanHistories(r);
    for (const p of moved) {
      // Served by the dead replica, then by the other one: two sessions, in that order.
      expect(p.sessions.map((s) => s.slice(0, s.lastIndexOf('-s'))), p.id).toEqual([victim, other]);
      expect(p.plansFrom.get(other), p.id).toBeGreaterThan(0);
    }
    // The survivors' robots were not disturbed.
    for (const p of stayed) expect(p.sessions, p.id).toHaveLength(1);
    // The edge daemon: back on the other replica, ACTIVE again by itself, commands within limits throughout.
    await waitFor('the edge daemon ACTIVE on the survivor, commands flowing', () => replicaOf(d.cloud?.health().sessionId ?? '') === other
      && d.supervisor.state === 'ACTIVE' && (d.cloud?.roundTripMs ?? null) !== null, WAIT_MS);
    const sentAfter = d.loop.gate.lastSent.count;
    await waitFor('commands after the failover', () => d.loop.gate.lastSent.count > sentAfter + 50, WAIT_MS);
    // At most a hold when its plan lapsed or its last chunk ran out, cleared by the new replica's plans; never a stop.
    const planHold = /^ACTIVE>HOLD:(plan-expired|chunk-exhausted)$/;
    expect(transitions.every((t) => planHold.test(t) || t.startsWith('HOLD>ACTIVE')), transitions.join(', ')).toBe(true);
    expect(tooFast).toEqual([]);
    // No joint steps further between two commands than its velocity limit allows in the time between them (with margin).
    expect(jumpMax, `largest step between commands / what the velocity limit allows (${worstJump})`).toBeLessThanOrEqual(1.5);
    expect(vrobot.mcu.counters.commandsRejected).toBe(0);
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
    await waitFor(`every robot ACTIVE on ${other} with its task`, () => r.robots.every((p) => p.servedBy(other) && p.instruction === r.instructionFor(p.id)), WAIT_MS);
    expectCleanHistories(r);
    for (const p of moved) expect(p.sessions.map((s) => s.slice(0, s.lastIndexOf('-s'))), p.id).toEqual([victim, other]);
  }, 180_000);
});
