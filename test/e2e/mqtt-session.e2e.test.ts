/**
 * The robot's MQTT session: birth, state summaries, safety events, the will on an abrupt loss,
 * and the broker going down and coming back (telemetry resumes, the fleet latch is honoured).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { encodePayload, fleetTopics, robotTopics, RobotStatusSchema, SafetyEventSchema, StateSummarySchema } from '../../proto/mqtt/index.js';
import { ResetWhat } from '../../proto/wire/index.js';
import { connectUser, startBroker, startMqttRobot, startProxy, watch, type BrokerKind, type MqttRobot, type TestBroker } from './mqtt-harness.js';
import { sleep, waitFor } from './link-harness.js';

const r1 = robotTopics('f', 'r1');
const fleet = fleetTopics('f');
const statusOf = (p: Buffer) => RobotStatusSchema.parse(JSON.parse(p.toString()));

describe.each<BrokerKind>(['embedded', 'mosquitto'])('robot session on the %s broker', (kind) => {
  let broker: TestBroker | null = null;
  let robot: MqttRobot | null = null;
  let alice: MqttClient | null = null;
  let proxy: Awaited<ReturnType<typeof startProxy>> | null = null;
  afterEach(async () => {
    await robot?.dispose();
    alice?.end(true);
    await proxy?.close();
    await broker?.stop();
    robot = null; alice = null; proxy = null; broker = null;
  });

  it('publishes birth, state summaries and safety transitions; the will marks an abrupt loss offline', async () => {
    broker = await startBroker(kind);
    alice = await connectUser(broker.url, 'alice');
    const status = await watch(alice, r1.status);
    const state = await watch(alice, r1.state);
    const events = await watch(alice, r1.event);
    proxy = await startProxy(broker.port);
    const r = robot = await startMqttRobot(proxy.url);
    await waitFor('birth', () => status.some((s) => statusOf(s.payload).online));
    await waitFor('state summaries', () => state.length >= 5, 3000);
    expect(StateSummarySchema.parse(JSON.parse(state.at(-1)?.payload.toString() ?? ''))).toMatchObject({ robot: 'r1', link: { state: 'READY' }, fleetLatch: false });
    const before0 = Date.now();
    r.supervisor.emit('transition', { from: 'ACTIVE', to: 'HOLD', cause: 'plan expired', source: 'plan-ttl' });
    await waitFor('transition event', () => events.some((e) => JSON.parse(e.payload.toString()).kind === 'transition'));
    const transition = SafetyEventSchema.parse(JSON.parse(events.find((e) => JSON.parse(e.payload.toString()).kind === 'transition')?.payload.toString() ?? ''));
    expect(transition.wallMs).toBeGreaterThanOrEqual(before0); // the wall clock, not the process's uptime
    expect(transition.wallMs).toBeLessThanOrEqual(Date.now());

    proxy.cut(); // no DISCONNECT: the broker publishes the will
    await waitFor('will: offline', () => {
      const last = status.at(-1);
      return last !== undefined && !statusOf(last.payload).online && statusOf(last.payload).reason === 'connection lost';
    }, 10_000);
    // The robot reconnects by itself: birth again, telemetry resumes.
    const before = state.length;
    await waitFor('birth after reconnect', () => statusOf(status.at(-1)?.payload ?? Buffer.from('{}')).online, 10_000);
    await waitFor('telemetry resumes', () => state.length > before + 5, 5000);
  }, 40_000);

  it('broker down and back: telemetry resumes and the retained fleet latch is honoured again', async () => {
    broker = await startBroker(kind);
    alice = await connectUser(broker.url, 'alice');
    await alice.publishAsync(fleet.estop, encodePayload({ v: 1, kind: 'estop', id: 'f1', category: 1, operator: 'alice', at: Date.now() }), { qos: 1, retain: true });
    alice.end(true);
    alice = null;
    proxy = await startProxy(broker.port);
    const r = robot = await startMqttRobot(proxy.url);
    await waitFor('latched by the retained fleet e-stop', () => r.rig.robot.estopLatched, 5000);
    // Clear the firmware latch behind MQTT's back: only a re-delivery of the latch can set it again.
    await r.rig.link.sendReset(ResetWhat.ESTOP, 1);
    expect(r.rig.robot.estopLatched).toBe(false);
    const stops = r.supervisor.stops.length;

    if (kind === 'mosquitto') {
      await broker.restart(300); // a real broker restart; retained messages persist
    } else {
      proxy.cut(); // the embedded broker lives in-process: a network loss stands for the outage
    }
    await waitFor('MQTT reconnected', () => r.mqtt.connected, 10_000);
    await waitFor('latch re-delivered and honoured', () => r.rig.robot.estopLatched, 5000);
    expect(r.supervisor.stops.length).toBeGreaterThan(stops);
    alice = await connectUser(broker.url, 'alice');
    const state = await watch(alice, r1.state);
    await waitFor('telemetry resumes', () => state.length >= 3, 5000);
    expect(StateSummarySchema.parse(JSON.parse(state.at(-1)?.payload.toString() ?? '')).fleetLatch).toBe(true);
    await alice.publishAsync(fleet.estop, encodePayload({ v: 1, kind: 'release', id: 'f1r', operator: 'alice', at: Date.now() }), { qos: 1, retain: true });
    await waitFor('latch released', () => !r.mqtt.fleetLatch);
    await sleep(50);
  }, 40_000);

  it('dead-man: heartbeats keep the robot alive; silence reaches the supervisor within the timeout', async () => {
    broker = await startBroker(kind);
    const r = robot = await startMqttRobot(broker.url, { deadmanTimeoutMs: 400 });
    alice = await connectUser(broker.url, 'alice');
    await waitFor('MQTT connected', () => r.mqtt.connected);
    const client = alice;
    const beat = (): void => { client.publish(fleet.heartbeat, encodePayload({ v: 1, kind: 'heartbeat', operator: 'alice', at: Date.now() }), { qos: 0 }); };
    beat();
    await sleep(50);
    const expiredAtStart = r.supervisor.deadmans.length;
    const beating = setInterval(beat, 100);
    await sleep(1000);
    clearInterval(beating);
    expect(r.supervisor.deadmans.length).toBe(expiredAtStart);
    const silentFrom = Date.now();
    await waitFor('dead-man expiry', () => r.supervisor.deadmans.length > expiredAtStart, 2000);
    expect(Date.now() - silentFrom).toBeLessThan(400 + 300);
    expect(r.supervisor.deadmans.at(-1)).toMatchObject({ timeoutMs: 400 });
  }, 20_000);
});
