/**
 * Remote e-stop end to end, with the embedded broker and with Mosquitto: an operator's publish
 * puts an ESTOP frame on the serial wire (seen by the virtual firmware) and the plant stops; an
 * operator's reset and resume reach the supervisor, a viewer's never do.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { encodePayload, fleetTopics, robotTopics, SafetyEventSchema } from '../../proto/mqtt/index.js';
import { EstopSource, ResetWhat } from '../../proto/wire/index.js';
import type { EstopEvent } from '../../firmware-shim/virtual/virtual-robot.js';
import { connectUser, dropUser, startBroker, startMqttRobot, watch, type BrokerKind, type MqttRobot, type TestBroker } from './mqtt-harness.js';
import { sleep, waitFor } from './link-harness.js';

const estop = (category: number) => encodePayload({ v: 1, kind: 'estop', id: `e-${Math.random()}`, category, operator: 'alice', at: Date.now() });
const reset = (operator = 'alice') => encodePayload({ v: 1, kind: 'reset', id: `r-${Math.random()}`, operator, at: Date.now() });
const resume = (operator = 'alice') => encodePayload({ v: 1, kind: 'resume', id: `m-${Math.random()}`, operator, at: Date.now() });
const release = () => encodePayload({ v: 1, kind: 'release', id: 'rel', operator: 'alice', at: Date.now() });
const r1 = robotTopics('f', 'r1');
const fleet = fleetTopics('f');

describe.each<BrokerKind>(['embedded', 'mosquitto'])('remote e-stop through the %s broker', (kind) => {
  let broker: TestBroker;
  let robot: MqttRobot | null = null;
  let alice: MqttClient;

  beforeAll(async () => {
    broker = await startBroker(kind);
    alice = await connectUser(broker.url, 'alice');
  });
  afterEach(async () => {
    await alice.publishAsync(fleet.estop, release(), { qos: 1, retain: true });
    await robot?.dispose();
    robot = null;
  });
  afterAll(async () => {
    await alice.endAsync();
    await broker.stop();
  });

  async function movingRobot(): Promise<{ r: MqttRobot; estops: EstopEvent[] }> {
    const r = await startMqttRobot(broker.url);
    robot = r;
    const estops: EstopEvent[] = [];
    r.rig.robot.on('estop', (e) => estops.push(e));
    await waitFor('MQTT connected', () => r.mqtt.connected);
    await sleep(100); // subscriptions granted
    r.drive();
    await waitFor('plant moving under host control', () => r.rig.robot.plant.mode === 'velocity');
    return { r, estops };
  }

  async function expectStopped(r: MqttRobot, estops: EstopEvent[], category: number, malformed = false): Promise<void> {
    await waitFor('ESTOP frame at the firmware', () => estops.length > 0, 3000);
    expect(estops[0]).toMatchObject({ category, source: EstopSource.REMOTE, malformed: false });
    expect(r.rig.robot.estopLatched).toBe(true);
    await waitFor('plant stopped', () => ['disable', 'hold'].includes(r.rig.robot.plant.mode), 3000);
    expect(r.supervisor.stops.at(-1)).toMatchObject({ category, malformed });
  }

  it('a publish on the robot topic stops the robot', async () => {
    const { r, estops } = await movingRobot();
    await alice.publishAsync(r1.estop, estop(1), { qos: 1 });
    await expectStopped(r, estops, 1);
    expect(r.supervisor.stops.at(-1)?.scope).toBe('robot');
  });

  it('a garbage payload on the robot topic stops the robot with category 0', async () => {
    const { r, estops } = await movingRobot();
    await alice.publishAsync(r1.estop, Buffer.from([0xde, 0xad, 0xbe, 0xef]), { qos: 1 });
    await expectStopped(r, estops, 0, true);
    expect(r.supervisor.stops).toEqual([{ scope: 'robot', category: 0, malformed: true, onWire: true }]);
  });

  it('the retained fleet e-stop stops a running robot and latches one that starts later', async () => {
    const { r, estops } = await movingRobot();
    const events = await watch(alice, r1.event);
    await alice.publishAsync(fleet.estop, estop(2), { qos: 1, retain: true });
    await expectStopped(r, estops, 2);
    await waitFor('fleet latch reported', () => events.some((e) => SafetyEventSchema.parse(JSON.parse(e.payload.toString())).kind === 'fleet-latch'));
    // A reset is refused while the fleet latch is asserted, and reported.
    await alice.publishAsync(r1.resetBy('alice'), reset(), { qos: 1 });
    await waitFor('reset refusal reported', () => events.some((e) => /fleet e-stop latch/.test(e.payload.toString())));
    expect(r.supervisor.resets).toEqual([]);
    await r.dispose();
    robot = null;

    // A (re)starting robot honours the retained latch before anyone presses anything.
    const again = await startMqttRobot(broker.url);
    robot = again;
    const seen: EstopEvent[] = [];
    again.rig.robot.on('estop', (e) => seen.push(e));
    await waitFor('restarted robot latched by the retained fleet e-stop', () => seen.length > 0 && again.rig.robot.estopLatched, 5000);
    expect(again.supervisor.stops[0]).toMatchObject({ scope: 'fleet', category: 2 });
    expect(again.mqtt.fleetLatch).toBe(true);
  });

  it('a reset from an operator reaches the supervisor; a viewer cannot reset or stop', async () => {
    const { r } = await movingRobot();
    const vic = await connectUser(broker.url, 'vic');
    vic.publish(r1.resetBy('vic'), reset('vic'), { qos: 0 });
    vic.publish(r1.estop, estop(0), { qos: 0 });
    await sleep(300);
    expect(r.supervisor.resets).toEqual([]);
    expect(r.supervisor.stops).toEqual([]);
    dropUser(vic);
    await alice.publishAsync(r1.resetBy('alice'), reset(), { qos: 1 });
    await waitFor('operator reset delivered', () => r.supervisor.resets.length === 1);
  });

  it('operator A cannot reset as operator B: the broker refuses B\'s topic, and the robot refuses and reports B\'s name in A\'s payload', async () => {
    const { r } = await movingRobot();
    const events = await watch(alice, r1.event);
    const refusals = (): string[] => events.map((e) => SafetyEventSchema.parse(JSON.parse(e.payload.toString())))
      .flatMap((e) => (e.kind === 'reset-refused' ? [e.reason] : []));
    // alice writes under bob's name: the broker refuses (aedes closes her connection; Mosquitto drops it).
    const mallory = await connectUser(broker.url, 'alice');
    mallory.publish(r1.resetBy('bob'), reset('bob'), { qos: 0 });
    // alice under her own name, but the payload claims bob: delivered, refused by the robot, reported.
    await alice.publishAsync(r1.resetBy('alice'), reset('bob'), { qos: 1 });
    await waitFor('forged reset reported', () => refusals().length > 0, 5000);
    expect(refusals()).toEqual([expect.stringMatching(/forged reset: the payload names operator "bob" but the broker authenticated "alice"/)]);
    expect(r.supervisor.resets).toEqual([]);
    dropUser(mallory);
    // bob under his own name is accepted, and the supervisor is told bob did it.
    const bob = await connectUser(broker.url, 'bob');
    await bob.publishAsync(r1.resetBy('bob'), reset('bob'), { qos: 1 });
    await waitFor('bob\'s reset delivered', () => r.supervisor.resets.length === 1);
    expect(r.supervisor.resets).toEqual([{ id: 'bob', role: 'operator' }]);
    dropUser(bob);
  });

  it('a resume from an operator reaches the supervisor; a viewer\'s never does; a retained one is refused', async () => {
    const events = await watch(alice, r1.event);
    const refusals = (): string[] => events.map((e) => SafetyEventSchema.parse(JSON.parse(e.payload.toString())))
      .flatMap((e) => (e.kind === 'resume-refused' ? [e.reason] : []));
    // A resume left retained on the broker reaches a starting robot flagged retained: refused.
    await alice.publishAsync(r1.resumeBy('alice'), resume(), { qos: 1, retain: true });
    const r = await startMqttRobot(broker.url);
    robot = r;
    await waitFor('retained resume refused', () => refusals().some((x) => /retained resume/.test(x)), 5000);
    await alice.publishAsync(r1.resumeBy('alice'), Buffer.alloc(0), { qos: 1, retain: true }); // cleared again
    await waitFor('empty payload refused', () => refusals().some((x) => /empty payload/.test(x)));
    expect(r.supervisor.resumes).toEqual([]);

    const vic = await connectUser(broker.url, 'vic');
    vic.publish(r1.resumeBy('vic'), resume('vic'), { qos: 0 });
    await sleep(300);
    expect(r.supervisor.resumes).toEqual([]);
    dropUser(vic);
    // Naming another operator in the payload is refused by the robot, and reported.
    await alice.publishAsync(r1.resumeBy('alice'), resume('bob'), { qos: 1 });
    await waitFor('forgery refusal reported', () => refusals().some((x) => /forged resume: the payload names operator "bob"/.test(x)));
    expect(r.supervisor.resumes).toEqual([]);

    await alice.publishAsync(r1.resumeBy('alice'), resume(), { qos: 1 });
    await waitFor('operator resume delivered', () => r.supervisor.resumes.length === 1);
    expect(r.supervisor.resumes[0]).toEqual({ id: 'alice', role: 'operator' });
    await waitFor('resume acceptance reported', () => events.some((e) => /"kind":"resume-accepted"/.test(e.payload.toString())));
  });

  it('a robot can neither publish as another robot nor read its commands', async () => {
    const r2 = await connectUser(broker.url, 'r2');
    const spoofed = await watch(alice, r1.state);
    const stolen = await watch(r2, r1.commands).catch(() => []);
    r2.publish(r1.state, encodePayload({ v: 1 }), { qos: 0 });
    await alice.publishAsync(r1.heartbeat, encodePayload({ v: 1, kind: 'heartbeat', operator: 'alice', at: Date.now() }), { qos: 1 });
    await sleep(300);
    expect(spoofed).toEqual([]);
    expect(stolen).toEqual([]);
    dropUser(r2);
  });
});

describe('reset path against the firmware', () => {
  it('the firmware RESET clears the latch after a remote e-stop (as the supervisor will do)', async () => {
    const broker = await startBroker('embedded');
    const r = await startMqttRobot(broker.url);
    try {
      await waitFor('MQTT connected', () => r.mqtt.connected);
      await sleep(100);
      const alice = await connectUser(broker.url, 'alice');
      await alice.publishAsync(r1.estop, estop(0), { qos: 1 });
      await waitFor('latched', () => r.rig.robot.estopLatched);
      const ack = await r.rig.link.sendReset(ResetWhat.ESTOP, 7);
      expect(ack.result).toBe(0);
      expect(r.rig.robot.estopLatched).toBe(false);
      await alice.endAsync();
    } finally {
      await r.dispose();
      await broker.stop();
    }
  });
});
