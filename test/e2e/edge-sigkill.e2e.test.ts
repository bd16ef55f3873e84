/**
 * The edge daemon killed outright (SIGKILL: no controlled stop, no ESTOP, no goodbye) while the
 * robot moves. The daemon runs as `spinal edge --config` in a child process, from the compiled
 * dist/ (see spinal-cli.ts); the virtual firmware, the reference brain and the MQTT broker live
 * in this process. The firmware's watchdog must stop the plant within its
 * timeout, and a daemon restarted while the retained fleet e-stop is on the broker must come up
 * latched, and refuse to resume.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import { encodePayload, fleetTopics, robotTopics, SafetyEventSchema, StateSummarySchema, type SafetyEvent, type StateSummary } from '../../proto/mqtt/index.js';
import { getProfile } from '../../hardware/index.js';
import { hostNowUs, VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { sleep, waitFor } from './link-harness.js';
import { ACCOUNTS, connectUser, FLEET, PASSWORDS } from './mqtt-harness.js';
import { ROOT, spinalArgv } from './spinal-cli.js';


const dir = mkdtempSync(join(tmpdir(), 'spinal-sigkill-'));
const children: ChildProcess[] = [];
let robot: VirtualRobot | null = null;
let brain: BrainServer | null = null;
let broker: EmbeddedBroker | null = null;
let alice: MqttClient | null = null;

/** Stops a child for good and waits for it to be reaped (no orphans, no zombie). */
async function reap(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

afterAll(async () => {
  for (const c of children) await reap(c);
  await alice?.endAsync(true);
  await brain?.stop();
  await broker?.close();
  await robot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Daemon {
  child: ChildProcess;
  /** The last lines of its output (pino JSON), for failure messages. */
  output: string[];
}

function startDaemon(configPath: string): Daemon {
  // Not a systemd service, and nothing of vitest's own loader set-up.
  const dropped = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'NODE_OPTIONS']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.has(k)));
  const child = spawnNodeChild(spinalArgv('edge', '--config', configPath), {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  const keep = (d: Buffer): void => {
    output.push(...d.toString('utf8').split('\n').filter((l) => l.length > 0));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output };
}

/** Waits for `what`, failing with the daemon's last output (and its exit, if it died). */
async function waitForDaemon(d: Daemon, what: string, pred: () => boolean, ms: number): Promise<void> {
  try {
    await waitFor(what, () => {
      if (d.child.exitCode !== null || d.child.signalCode !== null) throw new Error(`daemon exited (${d.child.exitCode ?? d.child.signalCode})`);
      return pred();
    }, ms);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- daemon output (last lines) ---\n${d.output.slice(-30).join('\n')}`);
  }
}

describe('edge daemon killed with SIGKILL', () => {
  it('the firmware watchdog stops the moving plant; a restarted daemon honours the retained fleet e-stop', async () => {
    const profile = getProfile('arm6-gripper');
    const ttyPath = join(dir, 'robot.tty');
    robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: 500, linkPath: ttyPath });
    await robot.start();
    const r = robot;
    brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: new ReferenceBackend(), planValidityMs: 2000 });
    broker = await EmbeddedBroker.start({ ...ACCOUNTS });
    writeFileSync(join(dir, 'mqtt-password'), `${PASSWORDS.r1 ?? ''}\n`);
    const configPath = join(dir, 'edge.json');
    writeFileSync(configPath, JSON.stringify({
      robot: { id: 'r1', profile: 'arm6-gripper' },
      serial: { path: ttyPath },
      control: { rateHz: 200, policy: 'crossfade', stepMs: 20 },
      cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
      mqtt: { url: broker.url, fleet: FLEET, passwordFile: join(dir, 'mqtt-password'), telemetryHz: 20, keepaliveS: 2, reconnectMs: 100 },
      log: { level: 'info' },
    }));

    // The operator's view of the robot: its state summaries and safety events over MQTT.
    const topics = robotTopics(FLEET, 'r1');
    alice = await connectUser(broker.url, 'alice');
    const states: StateSummary[] = [];
    const stateBytes: number[] = [];
    const events: SafetyEvent[] = [];
    alice.on('message', (topic, payload) => {
      if (topic === topics.state) {
        states.push(StateSummarySchema.parse(JSON.parse(payload.toString())));
        stateBytes.push(payload.length);
      }
      else if (topic === topics.event) events.push(SafetyEventSchema.parse(JSON.parse(payload.toString())));
    });
    await alice.subscribeAsync([topics.state, topics.event], { qos: 1 });
    const op = alice;
    let n = 0;
    const resume = (): Promise<unknown> =>
      op.publishAsync(topics.resumeBy('alice'), encodePayload({ v: 1, kind: 'resume', id: `m-${++n}`, operator: 'alice', at: Date.now() }), { qos: 1 });

    // First daemon: up, serving the firmware, connected to the brain and the broker.
    const first = startDaemon(configPath);
    await waitForDaemon(first, 'the MCU to see the host', () => r.mcu.isHostSeen, 20_000);
    await waitForDaemon(first, 'the daemon\'s state summary: link READY, safety IDLE', () => states.some((s) => s.link.state === 'READY' && s.safety.state === 'IDLE'), 10_000);

    // A task for the brain, then an operator's resume over MQTT (refused until a plan has arrived).
    const start = Array.from(r.plant.truth.q);
    const goal = start.slice();
    goal[0] = 0.5;
    goal[2] = -0.4;
    const instruction = `joints ${goal.map((q) => q.toFixed(3)).join(' ')}`;
    await brain.setTask('r1', instruction);
    const accepted = (): boolean => events.some((e) => e.kind === 'resume-accepted');
    const deadline = Date.now() + 10_000;
    while (!accepted()) {
      if (Date.now() > deadline) throw new Error(`resume never accepted; refusals: ${JSON.stringify(events.filter((e) => e.kind === 'resume-refused').slice(-3))}\n${first.output.slice(-20).join('\n')}`);
      await resume();
      await sleep(250);
    }
    await waitForDaemon(first, 'safety ACTIVE', () => states.at(-1)?.safety.state === 'ACTIVE', 3000);
    await waitForDaemon(first, 'the plant moving towards the goal', () => Math.abs((r.plant.truth.q[0] as number) - (start[0] as number)) > 0.05 && Math.abs(r.plant.truth.qd[0] as number) > 0.05, 10_000);
    expect(r.motorsEnabled).toBe(true);
    expect(r.watchdogTripped).toBe(false);

    // The dashboard's view while it moves: measured state, IMU, loop and link timing, the task.
    await waitForDaemon(first, 'a state summary with the decoder and cloud timings', () => {
      const m = states.at(-1)?.metrics;
      return m?.decoderMs != null && m.cloudLatencyMs != null && m.planAgeMs != null;
    }, 3000);
    const moving = states.at(-1) as StateSummary;
    const jointCount = profile.joints.length;
    expect(moving.measured?.position).toHaveLength(jointCount);
    expect(moving.measured?.velocity).toHaveLength(jointCount);
    // Joint 0 has left its start towards the goal (0.5 rad), as the plant has.
    const q0 = moving.measured?.position[0] as number;
    expect(Math.abs(q0 - (start[0] as number))).toBeGreaterThan(0.01);
    expect(Math.sign(q0 - (start[0] as number))).toBe(Math.sign(0.5 - (start[0] as number)));
    // The arm's base stands still and upright: level attitude, gravity up in the base frame.
    expect(moving.imu).not.toBeNull();
    expect(Math.abs(moving.imu?.roll as number)).toBeLessThan(0.05);
    expect(Math.abs(moving.imu?.pitch as number)).toBeLessThan(0.05);
    expect(moving.imu?.accel[2]).toBeGreaterThan(9.3);
    expect(moving.imu?.accel[2]).toBeLessThan(10.3);
    const mt = moving.metrics;
    expect(mt?.loopLatenessP99Ms).not.toBeNull();
    expect(mt?.decoderMs).toBeGreaterThan(0);
    expect(mt?.cloudLatencyMs).toBeGreaterThan(0);
    // The plan in use is still valid, so younger than the brain's validity (2 s).
    expect(mt?.planAgeMs).toBeLessThan(2000);
    expect(moving.task).toBe(instruction);
    // Published at a bounded precision: every measured position is a multiple of 1e-4 rad.
    for (const v of moving.measured?.position ?? []) expect(Math.abs(v * 1e4 - Math.round(v * 1e4))).toBeLessThan(1e-6);
    const bytes = stateBytes.at(-1) as number;
    console.log(`state summary, ${jointCount} joints, moving: ${bytes} bytes`);
    expect(bytes).toBeLessThan(1500);

    // SIGKILL mid-motion: nothing more goes on the wire; only the firmware's watchdog can stop it.
    let trippedAt = 0;
    r.once('watchdog', () => { trippedAt = hostNowUs(); });
    const killedAt = hostNowUs();
    first.child.kill('SIGKILL');
    await waitFor('watchdog trip', () => trippedAt > 0, 3000);
    const watchdogMs = profile.serial.watchdogMs;
    // Measured from the kill; the last frame went out before it, so the trip can only be earlier
    // than kill + timeout, plus the firmware's tick and this machine's scheduling (generous margin).
    expect((trippedAt - killedAt) / 1000).toBeLessThan(watchdogMs + 250);
    await waitFor('controlled stop to finish', () => !r.motorsEnabled, 3000);
    expect(r.watchdogTripped).toBe(true);
    await waitFor('joint 0 at rest', () => Math.abs(r.plant.truth.qd[0] as number) < 0.01, 3000);
    await new Promise<void>((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve() : first.child.once('exit', () => resolve())));
    expect(first.child.signalCode).toBe('SIGKILL');

    // The retained fleet e-stop is on the broker when the daemon comes back.
    await op.publishAsync(fleetTopics(FLEET).estop, encodePayload({ v: 1, kind: 'estop', id: 'fleet-1', category: 1, operator: 'alice', at: Date.now() }), { qos: 1, retain: true });
    states.length = 0;
    events.length = 0;
    const second = startDaemon(configPath);
    await waitForDaemon(second, 'the fleet e-stop received by the restarted daemon', () => events.some((e) => e.kind === 'estop-received' && e.scope === 'fleet'), 20_000);
    await waitForDaemon(second, 'the restarted daemon reporting the fleet latch', () => events.some((e) => e.kind === 'fleet-latch' && e.asserted), 5000);
    await waitForDaemon(second, 'a state summary: link READY, safety ESTOP latched, fleet latch', () =>
      states.some((s) => s.link.state === 'READY' && s.safety.state === 'ESTOP' && s.safety.latched && s.fleetLatch), 15_000);
    const received = events.find((e) => e.kind === 'estop-received');
    if (received?.kind === 'estop-received' && received.wireSent) {
      // The ESTOP frame made it onto the wire (the port was open when the retained message came).
      await waitFor('ESTOP latched in the firmware', () => r.estopLatched, 3000);
    }
    // An operator cannot resume it while the fleet latch stands; the plant stays at rest.
    await resume();
    await waitForDaemon(second, 'the resume refused for the fleet latch', () =>
      events.some((e) => e.kind === 'resume-refused' && /fleet e-stop latch/.test(e.reason)), 5000);
    expect(events.some((e) => e.kind === 'resume-accepted')).toBe(false);
    expect(r.motorsEnabled).toBe(false);
    expect(Math.abs(r.plant.truth.qd[0] as number)).toBeLessThan(0.01);

    await reap(second.child);
  }, 45_000);
});
