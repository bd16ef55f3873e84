/**
 * The remote e-stop channel fails safe, end to end on both brokers (embedded aedes and Mosquitto):
 * - the broker goes away while the robot is ACTIVE → after the link-loss timeout the supervisor
 *   puts the configured stop on the wire (seen by the virtual firmware), and once the broker is
 *   back the robot reports why, naming the source, and stays latched;
 * - a per-robot e-stop published while the robot is unreachable is delivered when it reconnects
 *   (persistent session), while a reset or resume published meanwhile is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { encodePayload, robotTopics, SafetyEventSchema, type SafetyEvent } from '../../proto/mqtt/index.js';
import { EstopReason, EstopSource } from '../../proto/wire/index.js';
import { connectUser, startBroker, startProxy, startSupervisedRobot, type BrokerKind, type SupervisedRobot, type TestBroker } from './mqtt-harness.js';
import { waitFor } from './link-harness.js';

const r1 = robotTopics('f', 'r1');
const command = (kind: 'estop' | 'reset' | 'resume', id: string) => encodePayload(
  kind === 'estop' ? { v: 1, kind, id, category: 1, operator: 'alice', at: Date.now() } : { v: 1, kind, id, operator: 'alice', at: Date.now() },
);

async function eventsOf(client: MqttClient): Promise<SafetyEvent[]> {
  const seen: SafetyEvent[] = [];
  client.on('message', (topic, payload) => { if (topic === r1.event) seen.push(SafetyEventSchema.parse(JSON.parse(payload.toString()))); });
  await client.subscribeAsync(r1.event, { qos: 1 });
  return seen;
}

describe.each<BrokerKind>(['embedded', 'mosquitto'])('remote e-stop channel on the %s broker', (kind) => {
  let broker: TestBroker | null = null;
  let robot: SupervisedRobot | null = null;
  let alice: MqttClient | null = null;
  let proxy: Awaited<ReturnType<typeof startProxy>> | null = null;
  afterEach(async () => {
    alice?.end(true);
    await robot?.dispose();
    await proxy?.close();
    await broker?.stop();
    robot = null; alice = null; proxy = null; broker = null;
  });

  it('broker gone while ACTIVE: the configured stop reaches the firmware, is reported after the reconnect, and stays latched', async () => {
    broker = await startBroker(kind);
    // Through a proxy, so that the robot comes back only once the observer below has subscribed
    // (the reports are QoS 1 events, not retained: a subscriber that comes later would miss them).
    proxy = await startProxy(broker.port);
    const link = proxy;
    const r = robot = await startSupervisedRobot(proxy.url, { linkLossTimeoutMs: 500, category: 2 });
    await waitFor('MQTT connected', () => r.mqtt.connected, 10_000);
    r.activate();
    await waitFor('plant moving under host control', () => r.rig.robot.plant.mode === 'velocity', 5000).catch((e: Error) => { throw new Error(`${e.message}; supervisor ${r.supervisor.state} ${r.supervisor.latchedCause}, firmware estops ${JSON.stringify(r.estops)}, plant ${r.rig.robot.plant.mode}, latched ${r.rig.robot.estopLatched}`); });

    let downAtMs = Number.NaN;
    await broker.restart(1500, () => { downAtMs = performance.now(); link.refuse(true); });
    // The stop happened while the broker was away.
    expect(r.estops).toHaveLength(1);
    expect(r.estops[0]).toMatchObject({ category: 2, source: EstopSource.HOST, reason: EstopReason.MQTT_LINK, malformed: false });
    expect(r.estops[0]?.atMs).toBeGreaterThan(downAtMs);
    expect(r.supervisor.state).toBe('ESTOP');
    expect(r.supervisor.latchedCause).toBe('mqtt-link-lost');
    expect(r.rig.robot.estopLatched).toBe(true);

    alice = await connectUser(broker.url, 'alice');
    const events = await eventsOf(alice);
    expect(r.mqtt.connected).toBe(false);
    link.refuse(false);
    await waitFor('robot reconnected', () => r.mqtt.connected, 10_000);
    await waitFor('stop reported after the reconnect', () => events.some((e) => e.kind === 'mqtt-link-lost') && events.some((e) => e.kind === 'transition' && e.to === 'ESTOP'), 10_000);
    const lost = events.find((e) => e.kind === 'mqtt-link-lost');
    expect(lost).toMatchObject({ timeoutMs: 500, category: 2 });
    expect(lost?.kind === 'mqtt-link-lost' ? lost.downForMs : 0).toBeGreaterThanOrEqual(500);
    expect(events.find((e) => e.kind === 'transition' && e.to === 'ESTOP')).toMatchObject({ from: 'ACTIVE', cause: 'mqtt-link-lost', source: 'edge:mqtt-link' });
    // Back online, nothing un-latches by itself.
    expect(r.supervisor.state).toBe('ESTOP');
    expect(r.rig.robot.estopLatched).toBe(true);
  }, 40_000);

  it('an e-stop sent while the robot is unreachable is delivered when it reconnects; a reset or resume sent meanwhile is not', async () => {
    broker = await startBroker(kind);
    proxy = await startProxy(broker.port);
    // A long link-loss timeout: this test is about the queue, not the watchdog.
    const r = robot = await startSupervisedRobot(proxy.url, { linkLossTimeoutMs: 60_000 });
    const link = proxy;
    alice = await connectUser(broker.url, 'alice');
    const events = await eventsOf(alice);
    await waitFor('MQTT connected', () => r.mqtt.connected, 10_000);
    r.activate();
    // The broker holds the robot's session and subscriptions before the outage: it handled the
    // SUBSCRIBE before this event, sent later on the same connection.
    await waitFor('the robot\'s ACTIVE reported through the broker', () => events.some((e) => e.kind === 'transition' && e.to === 'ACTIVE'), 5000);

    link.refuse(true);
    link.cut();
    await waitFor('robot offline', () => !r.mqtt.connected, 5000);
    await alice.publishAsync(r1.resetBy('alice'), command('reset', 'offline-reset'), { qos: 1 });
    await alice.publishAsync(r1.resumeBy('alice'), command('resume', 'offline-resume'), { qos: 1 });
    await alice.publishAsync(r1.estop, command('estop', 'offline-stop'), { qos: 1 });
    expect(r.estops).toEqual([]);
    expect(r.supervisor.state).toBe('ACTIVE');

    link.refuse(false);
    await waitFor('ESTOP at the firmware after the reconnect', () => r.estops.length > 0, 10_000);
    expect(r.estops[0]).toMatchObject({ category: 1, source: EstopSource.REMOTE });
    expect(r.supervisor.latchedCause).toBe('remote-estop');
    await waitFor('e-stop receipt reported', () => events.some((e) => e.kind === 'estop-received' && e.id === 'offline-stop'), 5000);
    // Neither the reset nor the resume acted or was even delivered (QoS 0: not queued).
    expect(events.filter((e) => e.kind.startsWith('reset') || e.kind.startsWith('resume'))).toEqual([]);
    expect(r.supervisor.state).toBe('ESTOP');
  }, 40_000);
});
