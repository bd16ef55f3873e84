/**
 * Remote e-stop latency over TLS against plaintext, same run, both brokers: operator publish (QoS 1)
 * → broker → robot's MQTT client → SerialLink ESTOP → PTY → virtual firmware latch, with the
 * operator and the robot on mqtts:// (password over TLS, broker checked against the test CA), and
 * the same rig on mqtt:// as the peer. Configurations alternate in short rounds so that load from
 * other processes on the machine falls on both alike.
 */
import { cpus, loadavg } from 'node:os';
import { encodePayload, robotTopics } from '../../proto/mqtt/index.js';
import { connectUser, startBroker, startMqttRobot, type BrokerKind, type MqttRobot, type TestBroker } from '../e2e/mqtt-harness.js';
import { sleep, waitFor } from '../e2e/link-harness.js';
import { makeTestCerts, type TestCerts } from '../e2e/tls-fixture.js';
import { trials } from './estop-latency.bench.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const TRIALS = Number(process.env.SPINAL_ESTOP_TLS_TRIALS ?? 400);
const ROUNDS = 4;
const ROUND_BUDGET_MS = 20_000;

interface Rig {
  broker: TestBroker;
  robot: MqttRobot;
  alice: Awaited<ReturnType<typeof connectUser>>;
}

async function startRig(kind: BrokerKind, certs: TestCerts | null): Promise<Rig> {
  const broker = await startBroker(kind, certs ? { tls: certs } : {});
  const tls = certs ? { ca: certs.ca } : undefined;
  const robot = await startMqttRobot(broker.url, { telemetryHz: 20, ...(tls ? { tls } : {}) });
  const alice = await connectUser(broker.url, 'alice', undefined, tls);
  await waitFor('robot MQTT connected', () => robot.mqtt.connected, 10_000);
  await sleep(200);
  return { broker, robot, alice };
}

async function stopRig(r: Rig): Promise<void> {
  r.alice.end(true);
  await r.robot.dispose();
  await r.broker.stop();
}

async function round(r: Rig, n: number, into: number[]): Promise<void> {
  const topic = robotTopics('f', 'r1').estop;
  await trials(r.robot, (i) => {
    r.alice.publish(topic, encodePayload({ v: 1, kind: 'estop', id: `bench-${i}`, category: 0, operator: 'alice', at: Date.now() }), { qos: 1 });
  }, (_i, t0, t1) => into.push((t1 - t0) / 1e6), n, ROUND_BUDGET_MS);
}

export const scenario: Scenario = {
  name: 'estop-tls',
  description: 'e-stop latency over mqtts:// against mqtt://, same run, embedded broker and Mosquitto',
  async run(): Promise<BenchResult> {
    const certs = await makeTestCerts(['r1']);
    const load = loadavg()[0] ?? Number.NaN;
    const rows: Cell[][] = [];
    const summary: Record<string, number | string> = {};
    try {
      for (const kind of ['embedded', 'mosquitto'] as const) {
        const plain = await startRig(kind, null);
        const secure = await startRig(kind, certs);
        const samples = { plain: [] as number[], tls: [] as number[] };
        try {
          for (let k = 0; k < ROUNDS; k++) {
            await round(plain, TRIALS / ROUNDS, samples.plain);
            await round(secure, TRIALS / ROUNDS, samples.tls);
          }
        } finally {
          await stopRig(plain);
          await stopRig(secure);
        }
        const p = stats(samples.plain);
        const t = stats(samples.tls);
        rows.push([`${kind} mqtt://`, p.n, p.median, p.p99, p.max, 1, 1]);
        rows.push([`${kind} mqtts://`, t.n, t.median, t.p99, t.max, t.median / p.median, t.p99 / p.p99]);
        summary[`${kind} mqtts p50 ms`] = t.median;
        summary[`${kind} mqtts p99 ms`] = t.p99;
        summary[`${kind} p99 ratio mqtts/mqtt`] = t.p99 / p.p99;
      }
    } finally {
      certs.dispose();
    }
    return {
      scenario: 'estop-tls',
      title: `remote e-stop over TLS vs plaintext: operator publish → ESTOP at the virtual firmware, ${TRIALS} trials per configuration in ${ROUNDS} alternating rounds (loopback)`,
      columns: ['broker / transport', 'n', 'p50 ms', 'p99 ms', 'max ms', 'p50 ratio', 'p99 ratio'],
      rows,
      summary,
      notes: [
        'peer: the same rig over mqtt://, measured in the same run, rounds alternating; ratio = mqtts / mqtt',
        'TLS 1.3, ECDSA P-256 certificates from `spinal certs`; the handshake is outside the timing (connections are up)',
        `1-minute load average at the start: ${load.toFixed(2)} on ${cpus().length} CPUs (shared with other work on this machine)`,
      ],
    };
  },
};
