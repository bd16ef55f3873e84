/**
 * The control loop end to end: virtual firmware on a PTY → SerialLink → StateEstimator → tick
 * worker + reference decoder (WorkerDecoder) → CommandGate → COMMAND frames → simulated plant.
 * The tick worker writes the COMMAND frames itself on the PTY's fd (the link and the loop share one
 * SharedWire), as in the daemon.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ControlLoop } from '../../edge/control/index.js';
import { WorkerDecoder } from '../../edge/decoder/index.js';
import { modelCatalog } from '../../edge/decoder/models/catalog.js';
import { StateEstimator } from '../../edge/estimation/index.js';
import { SafetySupervisor, bindSupervisor } from '../../edge/safety/index.js';
import { SharedWire } from '../../edge/serial/shared-wire.js';
import { systemClock } from '../../edge/clock.js';
import { getProfile } from '../../hardware/index.js';
import { encodeGoal, goalRangeFromLimits, referenceGoalLatentDim } from '../../proto/latent/reference-goal.js';
import type { AckMsg, CommandMsg } from '../../proto/wire/index.js';
import { startRig, sleep, waitFor, type Rig } from './link-harness.js';

const PROFILE = 'arm6-gripper';
const profile = getProfile(PROFILE);

let rig: Rig | null = null;
let loop: ControlLoop | null = null;
let decoder: WorkerDecoder | null = null;
afterEach(async () => {
  await loop?.stop();
  await decoder?.close();
  await rig?.dispose();
  loop = null; decoder = null; rig = null;
});

describe('control loop over the serial link', () => {
  it('drives the virtual robot towards the goal with reference-decoder chunks; an e-stop puts ESTOP on the wire and the plant stops', async () => {
    // Build and load the model, and start the tick worker, before the link is up: both block this
    // thread for a while at start-up, and a host silent beyond the MCU watchdog (rightly) gets an
    // MCU e-stop. The link is bound late through forwarding objects.
    const entry = modelCatalog().find((e) => e.name === `reference-${PROFILE}-velocity`);
    if (!entry) throw new Error('reference model missing from the catalog');
    decoder = await WorkerDecoder.load({ bytes: entry.build() });
    let lateLink: Rig['link'] | null = null;
    const wire = {
      sendCommand: (c: CommandMsg): boolean => lateLink?.sendCommand(c) ?? false,
      sendEstop: (cat: number, src: number, reason: number): boolean => lateLink?.sendEstop(cat, src, reason) ?? false,
      sendReset: (what: number, token: number): Promise<AckMsg> => lateLink?.sendReset(what, token) ?? Promise.reject(new Error('no link')),
    };
    const estimator = new StateEstimator(profile);
    const sup = new SafetySupervisor(wire, systemClock);
    const transitions: string[] = [];
    sup.on('transition', (e) => transitions.push(`${e.from}>${e.to}:${e.cause} (${e.detail})`));
    const latent = new Float32Array(referenceGoalLatentDim(profile.joints.length));
    const shared = SharedWire.create();
    loop = new ControlLoop({
      profile, rateHz: 500, decoder, observation: estimator.buffer, link: wire, supervisor: sup, wire: shared,
      latent: () => latent,
      scheduler: { horizon: decoder.info.spec.horizon, stepUs: 20_000, policy: 'crossfade', initialLatencyUs: 30_000 },
    });
    await loop.start();

    rig = await startRig({ profile: PROFILE, stateRateHz: 500 }, { wire: shared });
    const { link, robot } = rig;
    lateLink = link;
    link.on('state', (ev) => estimator.update(ev));
    bindSupervisor(sup, link, estimator);

    const start = Array.from(robot.plant.truth.q);
    const goal = start.slice();
    goal[0] = (start[0] as number) + 0.6;
    goal[2] = (start[2] as number) - 0.4;
    const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
    encodeGoal({ position: goal, stepsToGoal: 25 }, range, latent);
    await waitFor('READY and IDLE', () => sup.state === 'IDLE' && sup.mcuLatch !== 'unknown', 10_000).catch((e: Error) => {
      throw new Error(`${e.message}; link ${link.state}, transitions ${transitions.join(' ')}`);
    });
    sup.planReceived(systemClock.nowUs() + 30_000_000);
    let chunks = 0;
    loop.on('chunk', () => { chunks++; });
    await waitFor('a chunk', () => chunks > 0, 5000);
    expect(sup.resume({ id: 'alice', role: 'operator' })).toBe(true);

    // The reference decoder samples around its mean (a spread that shrinks as the goal nears), so
    // the check is for a neighbourhood of the goal.
    const near = (j: number, tol: number): boolean => Math.abs((robot.plant.truth.q[j] as number) - (goal[j] as number)) < tol;
    await waitFor('joints 0 and 2 near their goals', () => near(0, 0.1) && near(2, 0.1), 8000);
    expect(sup.state).toBe('ACTIVE');
    // The loop drove it: its commands reached the firmware, none lost on the way, all obeyed and
    // not all clamped. (How many it sent by now depends on how often a loaded machine let it tick,
    // so the claim is about each command, not about a count reached within a time.)
    const st = loop.stats();
    expect(st.sent).toBeGreaterThan(0);
    expect(loop.gate.lastSent.clampedCommands).toBeLessThan(st.sent);
    await waitFor('every command sent so far received by the firmware', () => (robot.mcu.counters.received['COMMAND'] ?? 0) >= st.sent, 3000);
    expect(robot.mcu.counters.commandsIgnored).toBe(0);
    expect(robot.mcu.counters.commandsRejected).toBe(0);

    // Moving again (a new goal), then the e-stop.
    goal[0] = start[0] as number;
    encodeGoal({ position: goal, stepsToGoal: 40 }, range, latent);
    await waitFor('joint 0 moving', () => Math.abs(robot.plant.truth.qd[0] as number) > 0.1, 3000);
    const estops: number[] = [];
    robot.on('estop', (e) => estops.push(e.category));
    sup.remoteEstop({ scope: 'fleet', category: 1, operator: 'bob', malformed: false });
    await waitFor('ESTOP latched in the firmware', () => robot.estopLatched, 1000);
    expect(sup.state).toBe('ESTOP');
    await waitFor('plant at rest', () => Math.abs(robot.plant.truth.qd[0] as number) < 0.01, 3000);
    // Category 1: the ramp ends with the motors disabled, and while latched no motion command
    // reaches the wire. (After power-off the joint is not held by anything: its drift is the
    // plant's, so the claim is "disabled and nothing sent", not a velocity threshold.)
    await waitFor('ramp finished, motors disabled', () => !robot.mcu.isStopping && !robot.motorsEnabled, 3000);
    const sent = loop.stats().sent;
    await sleep(200);
    expect(loop.stats().sent).toBe(sent);
    expect(robot.motorsEnabled).toBe(false);
    expect(robot.estopLatched).toBe(true);
  }, 60_000);
});
