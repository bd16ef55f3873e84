/**
 * MQTT loss → stop: the broker goes away while the robot is ACTIVE; how long until the stop is on
 * the wire, received by the virtual firmware (its 'estop' hook). Per trial: the broker is stopped
 * (Mosquitto: the process gets SIGTERM; embedded: aedes closes every connection), the robot's
 * LinkLossWatch (timeout 500 ms, real timers) fires, the supervisor latches and writes ESTOP; the
 * broker comes back, the robot reconnects, an operator reset and resume make it ACTIVE again.
 * Both brokers run side by side in the same run; the configured timeout is the reference the delay
 * is compared with (commercial wireless e-stop receivers: 450 ms to 2 s, not measured here).
 */
import { cpus, loadavg } from 'node:os';
import { EstopReason } from '../../proto/wire/index.js';
import { startBroker, startSupervisedRobot, type BrokerKind, type SupervisedRobot } from '../e2e/mqtt-harness.js';
import { waitFor } from '../e2e/link-harness.js';
import { stats, type BenchResult, type Cell, type Scenario } from './harness.js';

const TRIALS = Number(process.env.SPINAL_MQTT_LOSS_TRIALS ?? 40);
/** Per broker; the run stops early (with fewer trials, reported) when this is spent. */
const BUDGET_MS = 120_000;
const TIMEOUT_MS = 500;
/** How long the broker stays away: the timeout plus room for a late timer. */
const DOWN_MS = TIMEOUT_MS + 400;
const OP = { id: 'bench', role: 'operator' };

async function rearm(robot: SupervisedRobot): Promise<void> {
  await waitFor('robot reconnected', () => robot.mqtt.connected, 10_000);
  if (robot.supervisor.state === 'ESTOP' || robot.supervisor.state === 'FAULT') {
    if (!(await robot.supervisor.reset(OP))) throw new Error(`reset refused in ${robot.supervisor.state}`);
  }
  robot.activate();
}

async function measure(kind: BrokerKind): Promise<{ delays: number[]; overWire: number[]; missed: number }> {
  const broker = await startBroker(kind);
  const robot = await startSupervisedRobot(broker.url, { linkLossTimeoutMs: TIMEOUT_MS, category: 2 });
  const delays: number[] = [];
  const overWire: number[] = [];
  let missed = 0;
  let sentAt = Number.NaN;
  robot.supervisor.on('estop-sent', () => { sentAt = performance.now(); });
  try {
    await rearm(robot);
    const deadline = Date.now() + BUDGET_MS;
    for (let i = 0; i < TRIALS && Date.now() < deadline; i++) {
      const before = robot.estops.length;
      sentAt = Number.NaN;
      const t0 = performance.now();
      await broker.restart(DOWN_MS);
      const e = robot.estops[before];
      if (e === undefined || e.reason !== EstopReason.MQTT_LINK) {
        missed++;
      } else {
        delays.push(e.atMs - t0);
        overWire.push(e.atMs - sentAt);
      }
      await rearm(robot);
    }
  } finally {
    await robot.dispose();
    await broker.stop();
  }
  return { delays, overWire, missed };
}

export const scenario: Scenario = {
  name: 'mqtt-loss',
  description: 'broker gone while ACTIVE → ESTOP (mqtt-link-lost) received by the virtual firmware, embedded broker and Mosquitto',
  async run(): Promise<BenchResult> {
    const rows: Cell[][] = [];
    const summary: Record<string, number | boolean> = {};
    const load = loadavg()[0] ?? Number.NaN;
    for (const kind of ['embedded', 'mosquitto'] as const) {
      const { delays, overWire, missed } = await measure(kind);
      const s = stats(delays);
      const w = stats(overWire);
      rows.push([kind, s.n, missed, s.median, s.p99, s.max, s.median - TIMEOUT_MS, s.p99 - TIMEOUT_MS, w.median, w.p99]);
      summary[`${kind} p50 ms`] = s.median;
      summary[`${kind} p99 ms`] = s.p99;
      summary[`${kind} p50 / timeout`] = s.median / TIMEOUT_MS;
      summary[`${kind} p99 / timeout`] = s.p99 / TIMEOUT_MS;
      summary[`${kind} every loss stopped`] = missed === 0 && s.n > 0;
    }
    return {
      scenario: 'mqtt-loss',
      title: `MQTT broker stopped while ACTIVE → ESTOP at the virtual firmware, link-loss timeout ${TIMEOUT_MS} ms, up to ${TRIALS} trials per broker (loopback)`,
      columns: ['broker', 'n', 'missed', 'p50 ms', 'p99 ms', 'max ms', 'p50 - timeout', 'p99 - timeout', 'wire p50 ms', 'wire p99 ms'],
      rows,
      summary,
      notes: [
        't0 = the test asks the broker to stop; the robot sees the loss when the broker closes its socket (a silent network partition is seen only at the keepalive, mqtt.keepaliveS)',
        '"- timeout": detection of the loss plus timer lateness; wire = supervisor wrote ESTOP → firmware received it (PTY and the firmware loop)',
        'for scale: wireless e-stop receivers stop 450 ms (Hetronic Nova-M) to 2 s (Cattron) after their link drops',
        `1-minute load average at the start: ${load.toFixed(2)} on ${cpus().length} CPUs (broker, robot client, serial link and virtual firmware share them)`,
      ],
    };
  },
};
