/**
 * RobotMqtt's state summaries on an injected clock: one per period while the connection keeps up,
 * and skipped (never queued) while what was sent before still waits on the connection, as under a
 * broker that reads this robot less often under fleet load.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { robotTopics } from '../../proto/mqtt/index.js';
import { ManualClock } from '../clock.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { RecordingActuator } from '../safety/testing/recording-actuator.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import type { SummaryBody } from './ports.js';
import { RobotMqtt, TELEMETRY_BACKLOG_BYTES } from './robot-mqtt.js';

const ACCOUNTS = { fleet: 'f', robots: [{ id: 'r1', password: 'r1-pw' }], operators: [], viewers: [{ name: 'vic', password: 'vic-pw' }] };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('RobotMqtt state summaries', () => {
  it('skips a summary while earlier ones still wait on the connection, and publishes again once they left', async () => {
    const broker = await EmbeddedBroker.start({ ...ACCOUNTS });
    cleanup.push(() => broker.close());
    const viewer = await mqtt.connectAsync(broker.url, { username: 'vic', password: 'vic-pw', reconnectPeriod: 0 });
    cleanup.push(() => viewer.endAsync(true));
    const seqs: number[] = [];
    viewer.on('message', (_t, p) => seqs.push((JSON.parse(p.toString()) as { seq: number }).seq));
    await viewer.subscribeAsync(robotTopics('f', 'r1').state, { qos: 0 });

    const clock = new ManualClock(1_000_000);
    const wire = new RecordingActuator();
    const sup = new SafetySupervisor(wire, clock);
    cleanup.push(() => sup.dispose());
    let built = 0;
    const body: SummaryBody = {
      safety: { state: 'IDLE', latched: false },
      sent: null,
      link: { state: 'READY', rxFrames: 10, errors: 0, lastFrameAgeMs: 1.2 },
    };
    const source = { summary: (): SummaryBody => { built++; return body; } };
    const robot = new RobotMqtt({
      url: broker.url, fleet: 'f', robot: 'r1', username: 'r1', password: 'r1-pw', wire, estop: sup, reset: sup, resume: sup, safety: sup,
      linkLoss: { timeoutMs: 60_000, category: 2, sink: sup }, reconnectPeriodMs: 50, clock, now: () => 1_780_000_000_000,
      telemetry: { source, rateHz: 10 },
    });
    cleanup.push(() => robot.stop());
    robot.start();
    await vi.waitFor(() => expect(robot.connected).toBe(true), { timeout: 5000 });

    clock.advance(100);
    await vi.waitFor(() => expect(seqs).toEqual([0]), { timeout: 5000 });

    // The connection now reports more waiting than the limit: five periods, nothing built or sent.
    const stream = (robot as unknown as { client: MqttClient }).client.stream;
    Object.defineProperty(stream, 'writableLength', { configurable: true, get: () => TELEMETRY_BACKLOG_BYTES + 1 });
    for (let i = 0; i < 5; i++) clock.advance(100);
    expect(robot.telemetrySkipped).toBe(5);
    expect(built).toBe(1);

    // Drained: the next period publishes, numbered on from the last one sent.
    delete (stream as unknown as Record<string, unknown>)['writableLength'];
    clock.advance(100);
    await vi.waitFor(() => expect(seqs).toEqual([0, 1]), { timeout: 5000 });
    expect(built).toBe(2);
  });
});
