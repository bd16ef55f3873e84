/** Plans, observations and timing of CloudLink against a real gRPC server on a loopback port. */
import { afterEach, describe, expect, it } from 'vitest';
import type { CameraFrame, CameraSource } from '../camera/camera-source.js';
import type { AcceptedPlan, PlanRejectedEvent } from './cloud-link-types.js';
import type { FakeBrain } from './testing/fake-brain.js';
import { J, linkScope, makeLink, waitFor } from './testing/link-fixture.js';
import { referenceGoalLatentDim } from '../../proto/latent/reference-goal.js';

const scope = linkScope();
afterEach(() => scope.dispose());
const { brain, track } = scope;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('CloudLink plans', () => {
  it('rejects and counts bad plans, never emitting them', async () => {
    const b = await brain({ autoPlan: false });
    const { link } = makeLink(b.target, { maxObservationAgeMs: 150 });
    track(link);
    const accepted: AcceptedPlan[] = [];
    const rejected: PlanRejectedEvent[] = [];
    link.on('plan', (p) => accepted.push(p));
    link.on('plan-rejected', (e) => rejected.push(e));
    link.start();
    await waitFor(() => b.sessions.length === 1 && b.session.observations.length >= 3, 'three observations');
    const [o1, o2, o3] = b.session.observations.map((o) => o.seq) as [number, number, number];
    const send = (m: ReturnType<FakeBrain['plan']>): void => b.session.send(m);

    send(b.plan(o1, { latent: [1, 2] }));
    send(b.plan(o1, { latent: [NaN, ...new Array<number>(referenceGoalLatentDim(J) - 1).fill(0)] }));
    send(b.plan(o1, { latent: [Infinity, ...new Array<number>(referenceGoalLatentDim(J) - 1).fill(0)] }));
    send(b.plan(999_999));
    send(b.plan(o1, { validForMs: 0 }));
    send(b.plan(o2)); // accepted
    send(b.plan(o1)); // answers an observation older than the current plan's
    send(b.plan(o3, { planId: 1 })); // plan id not after the accepted one
    await waitFor(() => accepted.length + rejected.length === 8, 'eight verdicts');
    expect(rejected.map((r) => r.reason)).toEqual(['dims', 'non-finite', 'non-finite', 'unknown-observation', 'expired', 'older-than-current', 'out-of-order']);
    expect(rejected[0]?.detail).toBe(`plan 1: latent has 2 values, expected ${referenceGoalLatentDim(J)}`);
    expect(rejected[1]?.detail).toBe('plan 2: latent[0] is NaN');
    expect(accepted.map((p) => p.observationSeq)).toEqual([o2]);
    expect(accepted[0]?.latent).toEqual(new Float32Array(referenceGoalLatentDim(J)).fill(0.25));

    // Too old: the observation was captured longer ago than maxObservationAgeMs.
    await sleep(200);
    send(b.plan(o3, { validForMs: 10_000 }));
    await waitFor(() => rejected.length === 8, 'too-old verdict');
    expect(rejected[7]?.reason).toBe('too-old');
    expect(rejected[7]?.detail).toMatch(new RegExp(`answers observation ${o3} captured \\d+\\.\\d ms ago \\(limit 150 ms\\)`));

    const h = link.health();
    expect(h.plansRejected).toEqual({ dims: 1, 'non-finite': 2, chunk: 0, 'out-of-order': 1, 'unknown-observation': 1, 'older-than-current': 1, 'too-old': 1, expired: 1 });
    expect(h).toMatchObject({ plansReceived: 9, plansAccepted: 1 });
  });

  it('estimates the clock offset to the brain within a millisecond and measures the round trip', async () => {
    const offsetUs = 3_250_000;
    const b = await brain({ offsetUs, delayMs: 15 });
    const { link } = makeLink(b.target);
    track(link);
    let n = 0;
    link.on('plan', () => n++);
    expect(link.roundTripMs).toBeNull(); // no session yet
    link.start();
    await waitFor(() => n >= 20, 'twenty plans');
    const h = link.health();
    // The telemetry accessor: this session's latest round trip, at least the brain's delay.
    expect(link.roundTripMs).toBeGreaterThanOrEqual(15);
    expect(link.roundTripMs).toBeLessThanOrEqual(h.roundTrip.maxMs as number);
    expect(h.clockOffset.offsetUs).not.toBeNull();
    expect(Math.abs((h.clockOffset.offsetUs as number) - offsetUs)).toBeLessThan(1_000);
    expect(h.clockOffset.delayUs).toBeLessThan(5_000); // the 15 ms of compute is not network delay
    expect(h.roundTrip.count).toBeGreaterThanOrEqual(20);
    expect(h.roundTrip.p50Ms).toBeGreaterThanOrEqual(15);
    expect(h.roundTrip.p99Ms).toBeGreaterThanOrEqual(h.roundTrip.p50Ms as number);
    link.close();
    expect(link.roundTripMs).toBeNull(); // no session: no current latency
    console.log(`loopback, 15 ms brain delay: offset error ${((h.clockOffset.offsetUs as number) - offsetUs).toFixed(0)} µs, ` +
      `min delay ${h.clockOffset.delayUs?.toFixed(0)} µs, round trip p50 ${h.roundTrip.p50Ms?.toFixed(2)} ms p99 ${h.roundTrip.p99Ms?.toFixed(2)} ms`);
  });

  it('newest wins when the brain reads slowly: no queue on the client, superseded ticks counted, fresh state after', async () => {
    const b = await brain({ autoPlan: false });
    // A camera whose every frame is new and large, so the stream's flow-control window fills fast.
    let frameSeq = 0;
    const big: CameraSource = {
      id: 'big',
      latest: (): CameraFrame => ({ cameraId: 'big', encoding: 'jpeg', data: Buffer.alloc(200_000, frameSeq & 0xff), width: 1, height: 1, captureTimeUs: performance.now() * 1000, frameSeq: ++frameSeq }),
    };
    const { link } = makeLink(b.target, { cameras: [big] });
    track(link);
    link.start();
    await waitFor(() => b.sessions.length === 1, 'session');
    b.pauseReading();
    // The transport absorbs what the brain's HTTP/2 window allows (grpc-js acks a write once it is
    // in the window); once that is full, the link holds one write in flight and supersedes the rest.
    await waitFor(() => link.health().observationsSuperseded > 0, 'the transport to push back');
    const backlog = link.health().observationsSent;
    const supersededAtFull = link.health().observationsSuperseded;
    await sleep(1_000); // 30 more ticks
    const h = link.health();
    const writtenWhileFull = h.observationsSent - backlog;
    expect(writtenWhileFull).toBeLessThanOrEqual(1);
    expect(h.observationsSuperseded - supersededAtFull).toBeGreaterThanOrEqual(25);
    console.log(`slow brain, 200 kB frames at 30 Hz: the transport took ${backlog} observations before pushing back; ` +
      `then 1 s: ${writtenWhileFull} written, ${h.observationsSuperseded - supersededAtFull} superseded`);

    const resumedAtUs = performance.timeOrigin * 1000 + performance.now() * 1000;
    b.resumeReading();
    const before = b.session.observations.length;
    await waitFor(() => b.session.observations.length > before + h.observationsSent + 2, 'observations after resume');
    const seqs = b.session.observations.map((o) => o.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))).toBe(true);
    // The last observation received was captured after the resume, not replayed from the backlog.
    expect((b.session.observations.at(-1)?.captureTimeUs ?? 0)).toBeGreaterThan(resumedAtUs);
  });
});
