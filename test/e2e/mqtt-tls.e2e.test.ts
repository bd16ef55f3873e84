/**
 * Robot ↔ broker over TLS, with the embedded broker and with a real Mosquitto: a robot on mqtts://
 * (password over TLS, or its client certificate from `spinal certs` alone) gets an operator's
 * e-stop onto the serial wire; operators also connect over wss://; a plaintext client gets nothing
 * from a TLS listener; a client without a certificate is refused where one is required; and
 * plaintext off loopback is refused by the robot and by both brokers' configuration.
 */
import { connectAsync } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodePayload, robotTopics } from '../../proto/mqtt/index.js';
import { EstopSource } from '../../proto/wire/index.js';
import { EmbeddedBroker, RobotMqtt, writeMosquittoConfig } from '../../edge/mqtt/index.js';
import type { EstopEvent } from '../../firmware-shim/virtual/virtual-robot.js';
import { ACCOUNTS, connectUser, dropUser, PASSWORDS, startBroker, startMqttRobot, type BrokerKind, type MqttRobot, type TestBroker } from './mqtt-harness.js';
import { waitFor } from './link-harness.js';
import { makeTestCerts, type TestCerts } from './tls-fixture.js';

const r1 = robotTopics('f', 'r1');
const estop = (category: number) => encodePayload({ v: 1, kind: 'estop', id: `e-${Math.random()}`, category, operator: 'alice', at: Date.now() });
let certs: TestCerts;

beforeAll(async () => {
  certs = await makeTestCerts();
});
afterAll(() => certs.dispose());

/** Resolves with why a connection attempt failed; rejects if it succeeded. */
async function refusal(attempt: Promise<{ end(force?: boolean): unknown }>): Promise<string> {
  try {
    const c = await attempt;
    c.end(true);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the connection was accepted');
}

describe.each<BrokerKind>(['embedded', 'mosquitto'])('robot and operators over TLS through the %s broker', (kind) => {
  let broker: TestBroker;
  let robot: MqttRobot | null = null;

  afterEach(async () => {
    await robot?.dispose();
    robot = null;
    await broker?.stop();
  });

  async function expectEstopAtFirmware(r: MqttRobot, publish: () => Promise<unknown>): Promise<void> {
    const estops: EstopEvent[] = [];
    r.rig.robot.on('estop', (e) => estops.push(e));
    await waitFor('robot connected over TLS', () => r.mqtt.connected, 10_000);
    await publish();
    await waitFor('ESTOP frame at the firmware', () => estops.length > 0, 5000);
    expect(estops[0]).toMatchObject({ category: 1, source: EstopSource.REMOTE });
    expect(r.rig.robot.estopLatched).toBe(true);
  }

  it('a robot with a password over mqtts:// gets an operator\'s e-stop (sent over wss://) onto the wire; plaintext gets nothing from the TLS port', async () => {
    broker = await startBroker(kind, { tls: certs, websockets: true });
    expect(broker.url).toMatch(/^mqtts:\/\//);
    expect(broker.wsUrl).toMatch(/^wss:\/\//);
    robot = await startMqttRobot(broker.url, { tls: { ca: certs.ca } });
    const alice = await connectAsync(broker.wsUrl ?? '', { username: 'alice', password: PASSWORDS.alice ?? '', ca: certs.ca, reconnectPeriod: 0, protocolVersion: 4 });
    // Subscribed once its own retained status comes back through the broker to alice.
    const seen: string[] = [];
    alice.on('message', (t) => seen.push(t));
    await alice.subscribeAsync(r1.status, { qos: 1 });
    await waitFor('robot online over TLS', () => seen.includes(r1.status) && robot?.mqtt.connected === true, 10_000);
    await expectEstopAtFirmware(robot, () => alice.publishAsync(r1.estop, estop(1), { qos: 1 }));
    await alice.endAsync(true);
    // The same port in plaintext: the TLS handshake fails, no MQTT session.
    const plain = broker.url.replace('mqtts://', 'mqtt://');
    expect(await refusal(connectUser(plain, 'alice'))).toMatch(/could not connect|ECONNRESET|closed|socket/i);
    // A client that does not trust the broker's CA is refused by its own TLS check.
    expect(await refusal(connectUser(broker.url, 'alice', PASSWORDS.alice, { ca: certs.server.cert }))).toMatch(/certificate|self.signed|unable to (get|verify)/i);
  });

  it('with client certificates required, a robot logs in with its certificate alone; no certificate, no session', async () => {
    broker = await startBroker(kind, { tls: certs, clientCerts: true });
    robot = await startMqttRobot(broker.url, { tls: { ca: certs.ca, ...certs.robot('r1') }, password: null });
    await waitFor('robot connected with its certificate', () => robot?.mqtt.connected === true, 10_000);
    // r2's certificate is r2's identity, whatever username it claims: it may not publish r1's state.
    const r2 = await connectUser(broker.url, 'r2', '', { ca: certs.ca, ...certs.robot('r2') });
    dropUser(r2);
    expect(await refusal(connectUser(broker.url, 'alice', PASSWORDS.alice, { ca: certs.ca }))).toMatch(/could not connect|certificate|handshake|closed|socket|reset/i);
  });
});

describe('plaintext off loopback is refused', () => {
  const wire = { sendEstop: () => true };
  const sinks = { wire, estop: { remoteEstop() {} }, reset: { reset: () => true } };
  it('by the robot, naming the flag that allows it', () => {
    expect(() => new RobotMqtt({ url: 'mqtt://10.1.2.3:1883', fleet: 'f', robot: 'r1', ...sinks })).toThrow(/plaintext to a broker that is not on loopback: use mqtts:\/\/ \(with mqtt\.tls\), or set mqtt\.allowPlaintext/);
    expect(() => new RobotMqtt({ url: 'mqtt://broker.example.org', fleet: 'f', robot: 'r1', ...sinks })).toThrow(/mqtt\.allowPlaintext/);
    // Allowed explicitly, or on loopback, or over TLS: constructed (never started here).
    for (const o of [{ url: 'mqtt://10.1.2.3:1883', allowPlaintext: true }, { url: 'mqtt://127.0.0.1:1883' }, { url: 'mqtts://10.1.2.3:8883', tls: { ca: certs.ca } }]) {
      expect(new RobotMqtt({ ...o, fleet: 'f', robot: 'r1', ...sinks }).connected).toBe(false);
    }
  });
  it('by the embedded broker and the Mosquitto configuration, on TCP and WebSocket listeners', async () => {
    await expect(EmbeddedBroker.start({ ...ACCOUNTS, host: '0.0.0.0' })).rejects.toThrow(/refusing to listen in plaintext on "0.0.0.0".*allowPlaintext/);
    await expect(EmbeddedBroker.start({ ...ACCOUNTS, ws: { host: '0.0.0.0' } })).rejects.toThrow(/plaintext on "0.0.0.0"/);
    expect(() => writeMosquittoConfig({ ...ACCOUNTS, dir: certs.dir, port: 1883, host: '0.0.0.0' })).toThrow(/^refusing to listen in plaintext on "0.0.0.0".*allowPlaintext/);
    expect(() => writeMosquittoConfig({ ...ACCOUNTS, dir: certs.dir, port: 1883, websockets: { port: 9001, host: '10.0.0.1' } })).toThrow(/plaintext on "10.0.0.1"/);
    const b = await EmbeddedBroker.start({ ...ACCOUNTS, host: '0.0.0.0', tls: certs.server });
    expect(b.url).toMatch(/^mqtts:\/\/0\.0\.0\.0:/);
    await b.close();
  });
});
