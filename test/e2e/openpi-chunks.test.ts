/**
 * A virtual robot driven by action chunks from an openpi policy server, end to end in one process:
 * the openpi test server (cloud/testing, openpi's WebSocket protocol) → the brain server with the
 * openpi backend → gRPC → the edge's CloudLink → PlanExecution → ControlLoop (tick worker, gate,
 * COMMAND frames on a PTY) → virtual firmware and plant. The robot reaches the goal the policy
 * seeks with every COMMAND on the wire inside the joint limits; when the policy server stops
 * answering in time, the brain says so and the robot holds once its plan lapses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenpiBackend } from '../../cloud/backends/openpi/openpi-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { goalSeeking, OpenpiTestServer } from '../../cloud/testing/openpi-test-server.js';
import { systemClock } from '../../edge/clock.js';
import { CloudLink } from '../../edge/cloud-link/index.js';
import { ControlLoop } from '../../edge/control/index.js';
import { PlanExecution } from '../../edge/control/plan-execution.js';
import { WorkerDecoder } from '../../edge/decoder/index.js';
import { modelCatalog } from '../../edge/decoder/models/catalog.js';
import { StateEstimator } from '../../edge/estimation/index.js';
import { SafetySupervisor, bindSupervisor } from '../../edge/safety/index.js';
import { SharedWire } from '../../edge/serial/shared-wire.js';
import { countsToRad, getProfile } from '../../hardware/index.js';
import type { AckMsg, CommandMsg } from '../../proto/wire/index.js';
import { startRig, waitFor, type Rig } from './link-harness.js';

const PROFILE = 'arm6-gripper';
const profile = getProfile(PROFILE);
const n = profile.joints.length;

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('action chunks from an openpi server drive the robot', () => {
  it('reaches the goal with every command inside the limits; a policy past its deadline leaves the robot holding', async () => {
    const home = profile.poses['home'] as number[];
    const goal = home.map((q, j) => (j === 0 ? q + 0.5 : j === 2 ? q - 0.3 : q));
    let slow = false;
    const policy = await OpenpiTestServer.start({ policy: goalSeeking(goal, 50, 0.02), delayMs: () => (slow ? 3000 : 0) });
    stops.push(() => policy.close());
    const brain = await BrainServer.start({
      host: '127.0.0.1', port: 0, tls: null, robots: ['arm-1'], backend: createOpenpiBackend({ url: policy.url, actionHz: 50 }),
      planValidityMs: 1500, backendTimeoutMs: 1000,
    });
    stops.push(() => brain.stop());

    // The edge, wired as the daemon wires it (edge/daemon.ts): decoder and tick worker before the link.
    const entry = modelCatalog().find((e) => e.name === `reference-${PROFILE}-velocity`);
    if (!entry) throw new Error('reference model missing from the catalog');
    const decoder = await WorkerDecoder.load({ bytes: entry.build() });
    stops.push(() => decoder.close());
    let lateLink: Rig['link'] | null = null;
    const wire = {
      sendCommand: (c: CommandMsg): boolean => lateLink?.sendCommand(c) ?? false,
      sendEstop: (cat: number, src: number, reason: number): boolean => lateLink?.sendEstop(cat, src, reason) ?? false,
      sendReset: (what: number, token: number): Promise<AckMsg> => lateLink?.sendReset(what, token) ?? Promise.reject(new Error('no link')),
    };
    const estimator = new StateEstimator(profile);
    const sup = new SafetySupervisor(wire, systemClock);
    const transitions: string[] = [];
    sup.on('transition', (e) => transitions.push(`${e.from}>${e.to}:${e.cause}`));
    const stepUs = 20_000, rows = 50;
    const plans = new PlanExecution({ jointCount: n, stepUs, maxRows: rows });
    const shared = SharedWire.create();
    const loop = new ControlLoop({
      profile, rateHz: 200, decoder, observation: estimator.buffer, link: wire, supervisor: sup, wire: shared,
      mainStallBoundMs: 2000, // this process also runs the brain and the policy server on a shared machine
      latent: () => plans.latent, chunkSource: () => plans.source,
      scheduler: { horizon: rows, stepUs, policy: 'crossfade', initialLatencyUs: 50_000 },
    });
    plans.bind(loop, sup);
    await loop.start();
    stops.push(() => loop.stop());
    const rig = await startRig({ profile: PROFILE, stateRateHz: 500 }, { wire: shared });
    stops.push(() => rig.dispose());
    lateLink = rig.link;
    rig.link.on('state', (ev) => estimator.update(ev));
    bindSupervisor(sup, rig.link, estimator);
    // Every COMMAND the firmware receives, in radians.
    const outside: string[] = [];
    let commands = 0;
    rig.robot.on('command', (c: CommandMsg) => {
      commands++;
      for (let j = 0; j < n; j++) {
        const jp = profile.joints[j];
        if (jp === undefined) continue;
        const q = countsToRad(jp, c.position[j] as number);
        if (q < jp.limits.positionMin - 1e-3 || q > jp.limits.positionMax + 1e-3) outside.push(`joint ${j} at ${q.toFixed(4)}`);
      }
    });

    const link = new CloudLink({
      target: `127.0.0.1:${brain.port}`, robotId: 'arm-1', profile, softwareVersion: '0.2.0', maxChunkRows: rows,
      decoder: { latentSpace: decoder.info.spec.latentSpace, latentDim: decoder.info.spec.latentDim, stateDim: n, actionDim: n, horizon: decoder.info.spec.horizon, controlHz: 50 },
      state: estimator.buffer, observationRateHz: 10,
    });
    stops.push(() => link.close());
    const errors: string[] = [];
    link.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    link.on('plan', (p) => plans.onPlan(p));
    await waitFor('READY and IDLE', () => sup.state === 'IDLE' && sup.mcuLatch !== 'unknown', 10_000);
    link.start();
    await waitFor('an action-chunk plan', () => plans.kind === 'action-chunk', 10_000);
    expect(link.health()).toMatchObject({ backend: 'openpi', currentPlan: { kind: 'action-chunk' } });
    expect(sup.resume({ id: 'alice', role: 'operator' })).toBe(true);

    const near = (j: number): boolean => Math.abs((rig.robot.plant.truth.q[j] as number) - (goal[j] as number)) < 0.03;
    await waitFor('joints 0 and 2 at the goal', () => near(0) && near(2), 15_000).catch((e: Error) => {
      throw new Error(`${e.message}; q ${Array.from(rig.robot.plant.truth.q).map((q) => q.toFixed(3)).join(' ')}, transitions ${transitions.join(' ')}, errors ${errors.slice(-3).join(' | ')}`);
    });
    expect(sup.state).toBe('ACTIVE');
    expect(commands).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    expect(rig.robot.mcu.counters.commandsRejected).toBe(0);
    expect(plans.source).toBe('plans');

    // The policy now answers after the brain's deadline: errors name it, no plan comes, the robot holds.
    slow = true;
    await waitFor('the robot holds', () => sup.state === 'HOLD', 10_000);
    // Its chunk ran out (or its plan lapsed) first; the brain's error names the deadline.
    expect(transitions.at(-1)).toMatch(/^ACTIVE>HOLD:(chunk-exhausted|plan-expired)/);
    await waitFor('the brain names the timeout', () => errors.some((e) => /^BACKEND_TIMEOUT: the openpi server at ws:\/\/127\.0\.0\.1:\d+ did not answer within the 1000 ms deadline/.test(e)), 10_000);
    expect(outside).toEqual([]);
  }, 60_000);
});
