/** The real tick worker on real time (no wall-clock thresholds: counts and states only). */
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import { AckResult, type AckMsg, type CommandMsg } from '../../proto/wire/index.js';
import { systemClock } from '../clock.js';
import { ObservationBuffer, Slot } from '../estimation/observation-buffer.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { ControlLoop } from './control-loop.js';
import { FakeDecoder } from './testing/fake-decoder.js';

const profile = getProfile('arm6-gripper');
const N = profile.joints.length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Wire {
  commands = 0;
  estops = 0;
  sendCommand(_c: CommandMsg): boolean { this.commands++; return true; }
  sendEstop(): boolean { this.estops++; return true; }
  sendReset(): Promise<AckMsg> { return Promise.resolve({ result: AckResult.OK } as AckMsg); }
}

let loop: ControlLoop | null = null;
let feed: NodeJS.Timeout | null = null;
afterEach(async () => {
  if (feed) clearInterval(feed);
  await loop?.stop();
  loop = null;
});

describe('ControlLoop (tick worker)', () => {
  it('ticks in its worker, requests chunks, drives commands while ACTIVE and none after an e-stop', async () => {
    const obs = ObservationBuffer.create(N);
    feed = setInterval(() => {
      obs.beginWrite();
      obs.slots[Slot.SAMPLE_COUNT] = (obs.slots[Slot.SAMPLE_COUNT] ?? 0) + 1;
      obs.slots[Slot.HOST_TIME_US] = systemClock.nowUs();
      obs.endWrite();
    }, 2);
    const wire = new Wire();
    const sup = new SafetySupervisor(wire, systemClock);
    const dec = new FakeDecoder(systemClock, 16, N, 30, (_r, h, j) => 0.01 * (h + 1) * (j % 2));
    loop = new ControlLoop({
      profile, rateHz: 500, decoder: dec, observation: obs, link: wire, supervisor: sup,
      latent: () => new Float32Array(N + 1),
      scheduler: { horizon: 16, stepUs: 20_000, policy: 'hard', initialLatencyUs: 50_000 },
    });
    const chunks: number[] = [];
    loop.on('chunk', (c) => chunks.push(c.originUs));
    await loop.start();
    sup.linkReady();
    sup.mcuStatus(0, 0); // a STATE since the link came up (resume needs a current measurement)
    sup.planReceived(systemClock.nowUs() + 10_000_000);
    await sleep(150);
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(true);
    await sleep(400);
    const st = loop.stats();
    expect(st.ticks).toBeGreaterThan(100);
    expect(st.requests).toBeGreaterThan(1);
    expect(chunks.length).toBeGreaterThan(1);
    expect(wire.commands).toBeGreaterThan(50);
    expect(sup.state).toBe('ACTIVE');
    expect(st.lateness.length).toBeGreaterThan(100);
    // The telemetry statistic reads the same ring the worker writes.
    const p99 = loop.recentLatenessUs(0.99);
    expect(p99).not.toBeNull();
    expect(p99).toBeGreaterThanOrEqual(loop.recentLatenessUs(0.5) as number);
    sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    const after = wire.commands;
    await sleep(100);
    expect(wire.commands).toBe(after);
    expect(wire.estops).toBe(1);
  });

  it('with a hybrid wait (tickSpinUs) never acts before a deadline, names its thread and stops', async () => {
    const obs = ObservationBuffer.create(N);
    const wire = new Wire();
    const sup = new SafetySupervisor(wire, systemClock);
    loop = new ControlLoop({
      profile, rateHz: 500, decoder: new FakeDecoder(systemClock, 16, N, 30, () => 0), observation: obs, link: wire, supervisor: sup,
      latent: () => null, scheduler: { horizon: 16, stepUs: 20_000, policy: 'hard' }, tickSpinUs: 500,
    });
    await loop.start();
    expect(loop.tickThreadId).toEqual(expect.any(Number));
    await sleep(100);
    const late = loop.stats().lateness;
    expect(late.length).toBeGreaterThan(10);
    // It polls the clock up to each deadline: no tick starts early (a sleep alone may return early).
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    await loop.stop();
    loop = null;
  });
});
