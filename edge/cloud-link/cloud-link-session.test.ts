/** Session lifecycle of CloudLink against a real gRPC server on an ephemeral loopback port. */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { PlanExpiredEvent } from './cloud-link-types.js';
import { J, linkScope, makeLink, profile, waitFor } from './testing/link-fixture.js';

const scope = linkScope();
afterEach(() => scope.dispose());
const { brain, track } = scope;

describe('CloudLink session', () => {
  it('handshakes: exact state sequence, Hello contents, observations flowing, plans accepted', async () => {
    const b = await brain();
    const { link, states } = makeLink(b.target);
    track(link);
    const plans: number[] = [];
    link.on('plan', (p) => plans.push(p.planId));
    link.start();
    await waitFor(() => plans.length >= 3, 'three plans');
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE']);
    const h = b.session.hello;
    expect(h).toMatchObject({
      robotId: 'robot-1', protocolMajor: 1, softwareVersion: '0.1.0', profileId: 'arm6-gripper',
      latentSpace: 'spinal.reference-goal/2', latentDim: 2 * J + 1, stateDim: J, actionDim: J, horizon: 16, controlHz: 100, cameraIds: [],
    });
    expect(h.joints.map((j) => j.name)).toEqual(profile.joints.map((j) => j.name));
    expect(h.joints[0]?.positionMax).toBe(profile.joints[0]?.limits.positionMax);
    expect(h.poses['home']?.positions).toEqual(profile.poses['home']);
    const seqs = b.session.observations.map((o) => o.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))).toBe(true);
    expect(b.session.observations[0]?.state).toHaveLength(J);
    expect(plans).toEqual([1, 2, 3].concat(plans.slice(3)));
    const health = link.health();
    expect(health).toMatchObject({ state: 'ACTIVE', sessionId: 's1', backend: 'fake', sessions: 1, losses: 0 });
    expect(health.plansAccepted).toBeGreaterThanOrEqual(3);
    link.close();
    expect(states.at(-1)).toBe('ACTIVE>CLOSED');
  });

  it.each([
    ['UNKNOWN_ROBOT' as const, 'no robot "robot-1" in this fleet'],
    ['INCOMPATIBLE' as const, 'latent_space "x" not produced here'],
  ])('holds INCOMPATIBLE when the brain refuses the Hello (%s), and retries only at the maximum delay', async (code, message) => {
    const b = await brain({ refuse: { code, message } });
    const clock = new ManualClock();
    const { link, states, changes } = makeLink(b.target, { clock, backoff: { initialMs: 20, maxMs: 10_000, jitter: 0 } });
    track(link);
    const errors: string[] = [];
    link.on('error', (e) => errors.push(`${e.source}:${e.code}`));
    link.start();
    await waitFor(() => link.linkState === 'INCOMPATIBLE', 'INCOMPATIBLE');
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>INCOMPATIBLE']);
    expect(changes.at(-1)?.reason).toContain(`${code}: ${message}`);
    expect(errors).toEqual([`brain:${code}`]);
    expect(link.health().incompatible).toBe(1);
    await clock.advanceAsync(9_999);
    expect(link.linkState).toBe('INCOMPATIBLE');
    await clock.advanceAsync(1);
    expect(states.at(-1)).toBe('INCOMPATIBLE>CONNECTING');
    await waitFor(() => link.linkState === 'INCOMPATIBLE', 'refused again');
    expect(link.health().incompatible).toBe(2);
  });

  it('refuses a Welcome of another protocol major', async () => {
    const b = await brain({ protocolMajor: 2 });
    const { link, states, changes } = makeLink(b.target);
    track(link);
    link.start();
    await waitFor(() => link.linkState === 'INCOMPATIBLE', 'INCOMPATIBLE');
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>INCOMPATIBLE']);
    expect(changes.at(-1)?.reason).toBe('the brain speaks protocol major 2, this edge speaks 1');
  });

  it('backs off when no Welcome comes within the hello timeout', async () => {
    const b = await brain({ silent: true });
    const clock = new ManualClock();
    const { link, states } = makeLink(b.target, { clock, helloTimeoutMs: 300 });
    track(link);
    link.start();
    await waitFor(() => link.linkState === 'HELLO', 'HELLO');
    await clock.advanceAsync(299);
    expect(link.linkState).toBe('HELLO');
    await clock.advanceAsync(1);
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>BACKOFF']);
    expect(link.health()).toMatchObject({ helloTimeouts: 1, losses: 1 });
  });

  it('brain killed: BACKOFF, the last plan expires at capture + validity, reconnects and resumes when it returns', async () => {
    const b = await brain({ validForMs: 200 });
    const clock = new ManualClock();
    const { link, states } = makeLink(b.target, { clock, backoff: { initialMs: 1_000, maxMs: 1_000, jitter: 0 } });
    track(link);
    const expired: PlanExpiredEvent[] = [];
    link.on('plan-expired', (e) => expired.push(e));
    link.start();
    // The first observation goes out on ACTIVE; its plan arrives without the clock moving.
    await waitFor(() => link.currentPlan() !== null, 'a plan');
    const plan = link.currentPlan();
    expect(plan?.expiresAtUs).toBe((plan?.captureUs ?? 0) + 200_000);

    b.kill();
    await waitFor(() => link.linkState === 'BACKOFF', 'BACKOFF');
    await clock.advanceAsync(199);
    expect(expired).toEqual([]);
    await clock.advanceAsync(1);
    expect(expired).toEqual([{ planId: plan?.planId, observationSeq: plan?.observationSeq, expiresAtUs: plan?.expiresAtUs, linkState: 'BACKOFF' }]);
    expect(clock.nowUs()).toBe(plan?.expiresAtUs);

    await b.start(); // same port
    await clock.advanceAsync(800); // 1000 ms after the loss: retry
    await waitFor(() => link.linkState === 'ACTIVE', 'ACTIVE again');
    expect(states).toEqual([
      'IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE', 'ACTIVE>BACKOFF',
      'BACKOFF>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE',
    ]);
    await waitFor(() => (link.currentPlan()?.planId ?? 0) === 1 && link.currentPlan() !== plan, 'a plan of the new session');
    const h = link.health();
    expect(h).toMatchObject({ sessions: 2, losses: 1, plansExpired: 1 });
    // seq keeps increasing across sessions.
    expect(b.session.observations[0]?.seq).toBeGreaterThan(plan?.observationSeq ?? Infinity);
  });

  it('counts a connect failure and backs off with growing delays while the brain is absent', async () => {
    const b = await brain();
    b.kill();
    const clock = new ManualClock();
    const { link, states } = makeLink(b.target, { clock, backoff: { initialMs: 100, maxMs: 400, jitter: 0 } });
    track(link);
    link.start();
    await waitFor(() => link.linkState === 'BACKOFF', 'BACKOFF');
    await clock.advanceAsync(100);
    await waitFor(() => states.length === 4, 'second failure');
    await clock.advanceAsync(199);
    expect(link.linkState).toBe('BACKOFF');
    await clock.advanceAsync(1);
    await waitFor(() => states.length === 6, 'third failure');
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>BACKOFF', 'BACKOFF>CONNECTING', 'CONNECTING>BACKOFF', 'BACKOFF>CONNECTING', 'CONNECTING>BACKOFF']);
    expect(link.health()).toMatchObject({ connectAttempts: 3, connectFailures: 3 });
  });
});
