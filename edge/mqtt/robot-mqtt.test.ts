/**
 * RobotMqtt against the in-process broker, on an injected clock: how events are stamped, and the
 * remote e-stop channel's watchdog driving a real supervisor to the configured stop, to the
 * microsecond of the injected clock.
 */
import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { robotTopics, SafetyEventSchema, type SafetyEvent } from '../../proto/mqtt/index.js';
import { EstopReason, EstopSource, Status } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { RobotMqtt } from './robot-mqtt.js';
import { RecordingActuator } from '../safety/testing/recording-actuator.js';

const ACCOUNTS = { fleet: 'f', robots: [{ id: 'r1', password: 'r1-pw' }], operators: [{ name: 'alice', password: 'alice-pw' }], viewers: [] };
const WALL_MS = 1_780_000_000_123;
/** 11.6 days of process uptime in µs: past 1e12, where the old stamping took it for epoch ms. */
const UPTIME_US = 1_002_240_000_000;


async function operator(url: string): Promise<{ client: MqttClient; events: SafetyEvent[] }> {
  const u = new URL(url);
  const client = new MqttClient(() => createConnection({ host: u.hostname, port: Number(u.port) }), { protocolVersion: 4, username: 'alice', password: 'alice-pw', reconnectPeriod: 100, clientId: `alice-${Math.random().toString(16).slice(2)}` });
  const events: SafetyEvent[] = [];
  client.on('message', (_t, p) => events.push(SafetyEventSchema.parse(JSON.parse(p.toString()))));
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(robotTopics('f', 'r1').event, { qos: 1 });
  return { client, events };
}

describe('RobotMqtt on an injected clock', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** `replace(b)`: the broker that replaced the first one, closed at the end instead. */
  async function setUp(): Promise<{ broker: EmbeddedBroker; replace(b: EmbeddedBroker): void; clock: ManualClock; wire: RecordingActuator; sup: SafetySupervisor; mqtt: RobotMqtt; alice: Awaited<ReturnType<typeof operator>> }> {
    const broker = await EmbeddedBroker.start({ ...ACCOUNTS });
    let live = broker;
    cleanup.push(() => live.close());
    const clock = new ManualClock(UPTIME_US);
    const wire = new RecordingActuator();
    const sup = new SafetySupervisor(wire, clock);
    cleanup.push(() => sup.dispose());
    const mqtt = new RobotMqtt({
      url: broker.url, fleet: 'f', robot: 'r1', username: 'r1', password: 'r1-pw', wire, estop: sup, reset: sup, resume: sup, safety: sup,
      linkLoss: { timeoutMs: 500, category: 2, sink: sup }, reconnectPeriodMs: 50, clock, now: () => WALL_MS,
    });
    cleanup.push(() => mqtt.stop());
    const alice = await operator(broker.url);
    cleanup.push(() => alice.client.endAsync(true));
    mqtt.start();
    await vi.waitFor(() => expect(mqtt.connected).toBe(true), { timeout: 5000 });
    return { broker, replace: (b) => { live = b; }, clock, wire, sup, mqtt, alice };
  }

  it('stamps every event with the wall clock (wallMs) and the monotonic clock (monoUs), each in its own field', async () => {
    const { sup, clock, alice } = await setUp();
    sup.linkReady();
    sup.mcuStatus(Status.CONFIGURED, 0); // a STATE since the link came up: resume has a measured start
    await vi.waitFor(() => expect(alice.events).toHaveLength(1), { timeout: 5000 });
    expect(alice.events[0]).toMatchObject({ kind: 'transition', to: 'IDLE', wallMs: WALL_MS, monoUs: UPTIME_US });
    clock.advance(1.25);
    sup.planReceived(clock.nowUs() + 10_000_000);
    expect(sup.resume({ id: 'alice', role: 'operator' })).toBe(true);
    await vi.waitFor(() => expect(alice.events).toHaveLength(2), { timeout: 5000 });
    expect(alice.events[1]).toMatchObject({ kind: 'transition', to: 'ACTIVE', wallMs: WALL_MS, monoUs: UPTIME_US + 1250 });
  });

  it('broker lost while ACTIVE: the configured stop exactly timeoutMs later on the injected clock, reported after the reconnect', async () => {
    const s = await setUp();
    const { clock, wire, sup, mqtt } = s;
    sup.linkReady();
    sup.mcuStatus(Status.CONFIGURED, 0); // a STATE since the link came up: resume has a measured start
    sup.planReceived(clock.nowUs() + 60_000_000);
    expect(sup.resume({ id: 'alice', role: 'operator' })).toBe(true);
    const port = s.broker.port;
    await s.broker.close();
    await vi.waitFor(() => expect(mqtt.connected).toBe(false), { timeout: 5000 });
    const lostAtUs = clock.nowUs();
    clock.advance(499.999);
    expect(sup.state).toBe('ACTIVE');
    expect(wire.estops).toEqual([]);
    clock.advance(0.001);
    expect(clock.nowUs()).toBe(lostAtUs + 500_000);
    expect(sup.state).toBe('ESTOP');
    expect(sup.latchedCause).toBe('mqtt-link-lost');
    expect(wire.estops).toEqual([{ category: 2, source: EstopSource.HOST, reason: EstopReason.MQTT_LINK }]);

    // The broker comes back: the robot's queued events arrive, naming the source.
    const again = await EmbeddedBroker.start({ ...ACCOUNTS, port });
    s.replace(again);
    const alice = await operator(again.url);
    cleanup.push(() => alice.client.endAsync(true));
    await vi.waitFor(() => expect(mqtt.connected).toBe(true), { timeout: 5000 });
    // (Events still unacknowledged when the broker went may come again first: QoS 1 is at least once.)
    const stopEvent = (): SafetyEvent | undefined => alice.events.find((e) => e.kind === 'transition' && e.to === 'ESTOP');
    await vi.waitFor(() => expect(stopEvent()).toBeDefined(), { timeout: 5000 });
    expect(stopEvent()).toMatchObject({ from: 'ACTIVE', to: 'ESTOP', cause: 'mqtt-link-lost', source: 'edge:mqtt-link', monoUs: lostAtUs + 500_000 });
    await vi.waitFor(() => expect(alice.events.find((e) => e.kind === 'mqtt-link-lost')).toMatchObject({ timeoutMs: 500, downForMs: 500, category: 2, monoUs: lostAtUs + 500_000 }), { timeout: 5000 });
    // Reconnected, the robot stays latched: only a reset clears it.
    expect(sup.state).toBe('ESTOP');
  });
});
