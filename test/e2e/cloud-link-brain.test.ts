/**
 * The edge cloud link against the real brain server (cloud/brain) with the reference backend, over
 * mutual TLS with certificates from `spinal certs` (cloud/security/dev-certs.ts): accept and refuse
 * cases, plans that decode to the robot's own pose, and a brain that stops and comes back.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { runCerts } from '../../cloud/security/dev-certs.js';
import type { TlsPem } from '../../cloud/security/server-credentials.js';
import type { CloudLink, CloudTls } from '../../edge/cloud-link/index.js';
import { makeLink, profile, SettableState, waitFor } from '../../edge/cloud-link/testing/link-fixture.js';
import { decodeGoal, goalRangeFromLimits } from '../../proto/latent/reference-goal.js';

let dir = '';
let otherDir = '';
const pem = (d: string, name: string): Buffer => readFileSync(join(d, name));
const robotTls = (d: string, id: string): CloudTls => ({ ca: pem(d, 'ca.pem'), cert: pem(d, `robot-${id}.pem`), key: pem(d, `robot-${id}-key.pem`), serverName: 'localhost' });
let serverTls: TlsPem;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spinal-certs-'));
  otherDir = mkdtempSync(join(tmpdir(), 'spinal-certs-other-'));
  await runCerts({ out: dir, robots: ['robot-1', 'robot-2'] });
  await runCerts({ out: otherDir, robots: ['robot-1'] }); // a different CA
  serverTls = { ca: pem(dir, 'ca.pem'), cert: pem(dir, 'server.pem'), key: pem(dir, 'server-key.pem') };
});

const servers: BrainServer[] = [];
const links: CloudLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function brain(port = 0): Promise<BrainServer> {
  const s = await BrainServer.start({
    host: '127.0.0.1', port, tls: serverTls, robots: ['robot-1', 'robot-2'], backend: new ReferenceBackend(),
    planValidityMs: 300, drainTimeoutMs: 500,
  });
  servers.push(s);
  return s;
}

describe('cloud link against the brain server over mTLS', () => {
  it('connects with valid certificates; plans decode to the pose the robot reported', async () => {
    const server = await brain();
    const state = new SettableState();
    const home = profile.poses['home'] as number[];
    state.positions.set(home);
    const { link, states } = makeLink(`127.0.0.1:${server.port}`, { tls: robotTls(dir, 'robot-1'), state });
    links.push(link);
    let plans = 0;
    link.on('plan', () => plans++);
    link.start();
    await waitFor(() => plans >= 10, 'ten plans', 10_000);
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE']);
    const plan = link.currentPlan();
    const range = goalRangeFromLimits(profile.joints.map((j) => j.limits.positionMin), profile.joints.map((j) => j.limits.positionMax));
    const goal = decodeGoal(plan?.latent ?? [], range);
    home.forEach((q, j) => expect(goal.position[j]).toBeCloseTo(q, 4));
    const h = link.health();
    expect(h.plansRejected).toEqual({ dims: 0, 'non-finite': 0, chunk: 0, 'out-of-order': 0, 'unknown-observation': 0, 'older-than-current': 0, 'too-old': 0, expired: 0 });
    expect(h.backend).toBe('reference');
    console.log(`mTLS loopback, reference brain: round trip p50 ${h.roundTrip.p50Ms?.toFixed(2)} ms p99 ${h.roundTrip.p99Ms?.toFixed(2)} ms over ${h.roundTrip.count}; ` +
      `clock offset ${h.clockOffset.offsetUs?.toFixed(0)} µs ± ${((h.clockOffset.delayUs ?? 0) / 2).toFixed(0)} µs`);
  });

  it('is refused (INCOMPATIBLE) when the Hello names another robot than its certificate', async () => {
    const server = await brain();
    const { link, states, changes } = makeLink(`127.0.0.1:${server.port}`, { tls: robotTls(dir, 'robot-2'), robotId: 'robot-1' });
    links.push(link);
    link.start();
    await waitFor(() => link.linkState === 'INCOMPATIBLE', 'INCOMPATIBLE');
    expect(states).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>INCOMPATIBLE']);
    expect(changes.at(-1)?.reason).toMatch(/IDENTITY_MISMATCH/);
  });

  it('cannot connect with a certificate from another CA (the handshake fails; it backs off)', async () => {
    const server = await brain();
    const { link, states } = makeLink(`127.0.0.1:${server.port}`, { tls: robotTls(otherDir, 'robot-1') });
    links.push(link);
    const errors: string[] = [];
    link.on('error', (e) => errors.push(e.message));
    link.start();
    await waitFor(() => link.health().connectFailures + link.health().losses >= 1, 'a failure');
    expect(states.slice(0, 1)).toEqual(['IDLE>CONNECTING']);
    expect(link.health().sessions).toBe(0);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('brain stopped mid-session: the link backs off, its plan lapses at capture + validity, and it resumes on a new brain', async () => {
    const server = await brain();
    const port = server.port;
    const { link, states } = makeLink(`127.0.0.1:${port}`, { tls: robotTls(dir, 'robot-1'), backoff: { initialMs: 50, maxMs: 200, jitter: 0 } });
    links.push(link);
    const expired: { at: number; expiresAtUs: number; state: string }[] = [];
    link.on('plan-expired', (e) => expired.push({ at: performance.now() * 1000, expiresAtUs: e.expiresAtUs, state: e.linkState }));
    link.start();
    await waitFor(() => link.health().plansAccepted >= 3, 'plans');
    servers.splice(servers.indexOf(server), 1);
    await server.stop();
    await waitFor(() => expired.length === 1, 'the plan to lapse');
    const e = expired[0] as { at: number; expiresAtUs: number; state: string };
    expect(e.state).not.toBe('ACTIVE');
    expect(e.at - e.expiresAtUs).toBeGreaterThanOrEqual(0);
    expect(e.at - e.expiresAtUs).toBeLessThan(50_000); // timer lateness on a busy machine, not a drift
    await brain(port);
    await waitFor(() => link.linkState === 'ACTIVE' && link.health().sessions === 2, 'a second session', 10_000);
    expect(states.slice(0, 4)).toEqual(['IDLE>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE', 'ACTIVE>BACKOFF']);
    expect(states.slice(-3)).toEqual(['BACKOFF>CONNECTING', 'CONNECTING>HELLO', 'HELLO>ACTIVE']);
    await waitFor(() => link.health().plansAccepted > 3 && link.currentPlan()?.expiresAtUs !== e.expiresAtUs, 'a plan of the new session');
  });
});
