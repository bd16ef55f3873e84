/**
 * The real firmware image (firmware-shim/c/ports/mps2-an386, the C core built for Cortex-M4F)
 * under QEMU, through the real edge daemon: handshake and CONFIG/ACK, a stream with no CRC error
 * after the first frame, commands clamped by the firmware's own limits, an operator's MQTT e-stop
 * latched in the firmware and a RESET clearing it, a reopened port, and a silent host (a daemon
 * process stopped with SIGSTOP) tripping and latching the firmware's watchdog. What the firmware
 * did is read from its own memory (the probe block, through QMP), not only from what it reports.
 *
 * The image is built here with position limits at half the profile's range, so the daemon (which
 * keeps targets within the profile) can send targets that only the firmware clamps.
 *
 * Line rate: QEMU's UART takes only 10-26 kB/s from the host. The daemon here sends COMMAND at
 * 20 Hz (about 2 kB/s for the arm) and asks for STATE at 100 Hz; its default 200 Hz command stream
 * would outrun the emulated UART.
 *
 * In CI (`.ci/run` installs gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm) this
 * file must run; elsewhere it is skipped when they are missing.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../edge/config.js';
import { CHECK_IDS, runConformance } from '../../edge/conformance/run-conformance.js';
import { startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { spawnNodeChild, spawnProgram } from '../../edge/process/tethered-child.js';
import { armToolchain, buildImage, getBoard } from '../../firmware-shim/c/ports/build-ports.js';
import { hardLimits } from '../../firmware-shim/virtual/mcu.js';
import { findProgram, QemuRobot, type McuProbe } from '../../firmware-shim/qemu/index.js';
import { getProfile } from '../../hardware/index.js';
import { robotTopics } from '../../proto/mqtt/index.js';
import { CommandMode as Mode, ResetWhat, StateFlag, Status, newCommand } from '../../proto/wire/index.js';
import type { StateEvent } from '../../edge/serial/serial-link-types.js';
import { waitFor } from './link-harness.js';
import { spinalArgv } from './spinal-cli.js';
import { descendants, waitGone } from '../process/proc.js';

const available = armToolchain() !== null && findProgram('qemu-system-arm') !== null;
if (!available && process.env.CI) throw new Error('CI must have arm-none-eabi-gcc, newlib and qemu-system-arm (see .ci/run)');

const PROFILE = 'arm6-gripper';
const LIMIT_SCALE = 0.5;
/**
 * The firmware watchdog the daemon asks for in CONFIG. The profile's 100 ms (and 500 ms) tripped in
 * this test on the shared machine (load average 20): QEMU's PTY backend holds the host's bytes now
 * and then (stalls of 150-800 ms measured here; after it counts the port as reopened, about a
 * second), so heartbeats sent every 20 ms can reach the firmware that far apart.
 */
const WATCHDOG_MS = 1500;
const dir = mkdtempSync(join(tmpdir(), 'spinal-qemu-e2e-'));
const tty = join(dir, 'robot.tty');
let robot: QemuRobot | null = null;
let daemon: EdgeDaemon | null = null;
let operator: mqtt.MqttClient | null = null;
let child: ChildProcess | null = null;

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  await operator?.endAsync();
  await daemon?.close();
  await robot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// One image for the whole file, with the firmware's position limits at LIMIT_SCALE of the profile's.
const image = join(dir, 'image', `${PROFILE}.elf`);
beforeAll(() => {
  if (available) buildImage({ board: getBoard('mps2-an386'), profile: PROFILE, limitScale: LIMIT_SCALE, out: image });
}, 60_000);

/** Polls the firmware's probe block until `pred` holds. */
async function waitProbe(what: string, pred: (p: McuProbe) => boolean, ms = 5000): Promise<McuProbe> {
  const r = robot;
  if (!r) throw new Error('no robot');
  const deadline = Date.now() + ms;
  let last: McuProbe | null = null;
  for (;;) {
    last = await r.readProbe();
    if (pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; probe ${JSON.stringify(last)}`);
    await new Promise((res) => setTimeout(res, 30));
  }
}

function config(extra: Record<string, unknown> = {}): ReturnType<typeof parseEdgeConfig> {
  return parseEdgeConfig({
    robot: { id: 'r1', profile: PROFILE },
    serial: { path: tty, stateRateHz: 100, watchdogMs: WATCHDOG_MS },
    control: { rateHz: 20, mainStallBoundMs: 2000 },
    ...extra,
  }, 'qemu e2e');
}

describe.skipIf(!available)('the mps2-an386 firmware image under QEMU, through the edge daemon', () => {
  beforeAll(async () => {
    robot = new QemuRobot({ image, linkPath: tty, spawn: spawnProgram });
    await robot.start();
  }, 60_000);
  // Each test starts from a freshly reset MCU (QMP system_reset): the firmware boots again.
  // The last bytes an earlier test's daemon wrote may still wait in the PTY for QEMU to read them
  // (a loaded machine slows QEMU: one such frame reached a fresh boot); then boot once more.
  beforeEach(async () => {
    let p: McuProbe | null = null;
    for (let boot = 0; boot < 3; boot++) {
      await robot?.reboot();
      const fresh = await waitProbe('a fresh boot', (q) => q.stops === 0 && q.watchdogTrips === 0 && q.ticks > 0, 10_000);
      p = await waitProbe('200 ticks after the boot', (q) => q.ticks > fresh.ticks + 200, 10_000);
      if (p.framesRx === 0) break;
    }
    if (p?.framesRx !== 0) throw new Error(`frames from an earlier host reached three fresh boots: probe ${JSON.stringify(p)}`);
  }, 60_000);

  it('the hardware e-stop input latches a stop in the firmware', async () => {
    robot?.setButton(true);
    const p = await waitProbe('button stop latched', (q) => (q.status & Status.ESTOP_LATCHED) !== 0 && q.stops === 1);
    expect(p.driveMode).toBe(Mode.DISABLE); // the button is a category 0 stop: power off at once
    robot?.setButton(false);
    // Released, the latch stays until a RESET: still latched after another 200 ticks.
    const later = await waitProbe('200 more ticks', (q) => q.ticks > p.ticks + 200);
    expect(later.status & Status.ESTOP_LATCHED).toBe(Status.ESTOP_LATCHED);
  });

  it('a silent host (its daemon stopped) trips the firmware watchdog, which stays latched', async () => {
    const file = join(dir, 'edge.json');
    writeFileSync(file, JSON.stringify({ robot: { id: 'r1', profile: PROFILE }, serial: { path: tty, stateRateHz: 100, watchdogMs: WATCHDOG_MS }, control: { rateHz: 20 }, log: { level: 'warn' } }));
    const before = await robot?.readProbe();
    const tripsBefore = before?.watchdogTrips ?? 0;
    const framesBefore = before?.framesRx ?? 0;
    const c = spawnNodeChild(spinalArgv('edge', '--config', file), { stdio: ['ignore', 'ignore', 'ignore'] });
    child = c;
    // The daemon is talking once the firmware has its HELLO, CONFIG and a stream of heartbeats.
    await waitProbe('the daemon talking', (p) => p.framesRx > framesBefore + 30 && (p.status & Status.WATCHDOG_TRIPPED) === 0, 60_000);
    c.kill('SIGSTOP');
    const tripped = await waitProbe('watchdog tripped', (p) => (p.status & Status.WATCHDOG_TRIPPED) !== 0 && p.watchdogTrips > tripsBefore, 15_000);
    // Latched: still tripped once the firmware has run another 2000 ticks (at least 2 s, longer
    // than the controlled stop) with the host silent, and the drives are off.
    const later = await waitProbe('2000 more ticks', (p) => p.ticks > tripped.ticks + 2000, 15_000);
    expect(later.status & Status.WATCHDOG_TRIPPED).toBe(Status.WATCHDOG_TRIPPED);
    expect(later.status & Status.MOTORS_ENABLED).toBe(0);
    expect(later.driveMode).toBe(Mode.DISABLE);
    expect(later.watchdogTrips).toBe(tripped.watchdogTrips);
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    await new Promise<void>((res) => (c.exitCode !== null ? res() : c.once('exit', () => res())));
    child = null;
  }, 90_000);

  it('handshakes, configures, streams without CRC errors, obeys and clamps commands, latches an MQTT e-stop, resets, and comes back on a reopened port', async () => {
    const accounts = { fleet: 'lab', robots: [{ id: 'r1', password: 'robot-secret' }], operators: [{ name: 'alice', password: 'op-secret' }], viewers: [] };
    writeFileSync(join(dir, 'accounts.json'), JSON.stringify(accounts));
    writeFileSync(join(dir, 'mqtt-password'), 'robot-secret\n');
    daemon = await startEdgeDaemon(config({
      mqtt: { fleet: 'lab', passwordFile: join(dir, 'mqtt-password'), embedded: { port: 0, accountsFile: join(dir, 'accounts.json') } },
    }), pino({ level: 'silent' }));
    const d = daemon;

    // Handshake and CONFIG/ACK: READY means the MCU's HELLO matched and it acknowledged CONFIG.
    await waitFor('serial READY', () => d.link.state === 'READY', 15_000);
    expect(d.link.mcu).toMatchObject({ profileId: PROFILE, jointCount: 7 });
    await waitProbe('the firmware configured and hearing the host', (p) => (p.status & Status.CONFIGURED) !== 0 && (p.status & Status.HOST_SEEN) !== 0);

    // Streaming: after the first frame (the port may open mid-frame), no CRC error either way.
    let states = 0;
    const measured = new Int32Array(7);
    // SPEC 1.1's IMU sample counter, of the frames that carry IMU data: each STATE is a new sample.
    const imuSamples: number[] = [];
    const onState = (ev: StateEvent): void => {
      measured.set(ev.msg.position.subarray(0, 7));
      if ((ev.msg.flags & StateFlag.IMU) !== 0) imuSamples.push(ev.msg.imuSample);
      states++;
    };
    d.link.on('state', onState);
    const hostCrc = d.link.health().decoder.crcErrors;
    const hostLost = d.link.health().decoder.seqLost;
    const before = await robot?.readProbe();
    // 200 STATE frames at 100 Hz: 2 s of stream, not the 10 s first planned: CI time is short, and
    // the qemu-firmware benchmark streams for 10 s.
    await waitFor('200 STATE frames', () => states >= 200, 30_000);
    d.link.off('state', onState);
    expect(d.link.health().decoder.crcErrors).toBe(hostCrc);
    expect(imuSamples.length).toBeGreaterThan(0);
    expect(imuSamples.every((n, i) => n !== 0 && (i === 0 || n !== imuSamples[i - 1]))).toBe(true);
    const after = await waitProbe('commands obeyed meanwhile', (p) => p.commandsObeyed > (before?.commandsObeyed ?? 0));
    expect(after.crcErrors).toBe(0);
    expect(after.resyncs).toBe(0);
    // Frames missing by sequence number: dropped by the firmware (TX ring full) or lost on the line.
    expect(d.link.health().decoder.seqLost).toBe(hostLost);

    // Targets beyond the firmware's own limits (within the profile's): the firmware clamps them.
    const joint0 = getProfile(PROFILE).joints[0];
    if (!joint0) throw new Error('profile without joints');
    const firmwareMax = hardLimits({ ...joint0, limits: { ...joint0.limits, positionMin: joint0.limits.positionMin * LIMIT_SCALE, positionMax: joint0.limits.positionMax * LIMIT_SCALE } }).posMax;
    const cmd = newCommand();
    cmd.jointCount = 7;
    cmd.mode = Mode.POSITION;
    cmd.position.set(measured); // every joint where it is, but the first
    cmd.position[0] = Math.round(firmwareMax * 1.5);
    const clampedBefore = after.commandsClamped;
    const sender = setInterval(() => d.link.sendCommand(cmd), 50);
    try {
      const p = await waitProbe('a clamped command at the drives', (q) => q.commandsClamped > clampedBefore && q.driveMode === Mode.POSITION && q.outPosition[0] === firmwareMax);
      expect(p.outPosition[0]).toBe(firmwareMax);
    } finally {
      clearInterval(sender);
    }

    // An operator's e-stop over MQTT: the ESTOP reaches the firmware and latches there.
    operator = await mqtt.connectAsync(d.broker?.url ?? 'mqtt://embedded-broker-missing', { username: 'alice', password: 'op-secret', clientId: 'alice-qemu' });
    const stopsBefore = (await robot?.readProbe())?.stops ?? 0;
    await operator.publishAsync(robotTopics('lab', 'r1').estop, JSON.stringify({ v: 1, kind: 'estop', id: 'e-1', category: 1, operator: 'alice', at: Date.now() }), { qos: 1 });
    await waitProbe('ESTOP latched in the firmware', (p) => (p.status & Status.ESTOP_LATCHED) !== 0 && p.stops > stopsBefore);
    await waitFor('safety ESTOP', () => d.supervisor.state === 'ESTOP', 3000);

    // RESET: the firmware acknowledges and clears its latch (it stays disabled until commanded).
    const resetsBefore = (await robot?.readProbe())?.resetsAccepted ?? 0;
    // The link gives the ACK 500 ms, less than QEMU may hold the RESET's bytes (see WATCHDOG_MS), so
    // the firmware's own count of accepted resets is the verdict; an ACK that did come must be OK.
    const ack = await d.link.sendReset(ResetWhat.ESTOP | ResetWhat.WATCHDOG, 7).catch(() => null);
    expect(ack?.result ?? 0).toBe(0);
    await waitProbe('latch cleared', (p) => (p.status & Status.ESTOP_LATCHED) === 0 && p.resetsAccepted > resetsBefore);

    // The port closed and reopened by a new daemon: a fresh handshake, still no CRC error.
    await operator.endAsync();
    operator = null;
    await d.close();
    daemon = null;
    const framesBefore = (await robot?.readProbe())?.framesRx ?? 0;
    daemon = await startEdgeDaemon(config(), pino({ level: 'silent' }));
    const d2 = daemon;
    await waitFor('READY after reopening the port', () => d2.link.state === 'READY', 15_000);
    const crc2 = d2.link.health().decoder.crcErrors;
    await waitProbe('frames from the new daemon', (p) => p.framesRx > framesBefore + 20);
    expect(d2.link.health().decoder.crcErrors).toBe(crc2);
    expect((await robot?.readProbe())?.crcErrors).toBe(0);
    await d2.close();
    daemon = null;
  }, 90_000);

  it('passes spinal conformance, with an ACK wait for QEMU, on every check but the 1 kHz STATE rate', async () => {
    // QEMU's timer interrupts merge when the host deschedules it, so the profile's 1 kHz STATE comes
    // out at 750-870 Hz here: the state-rate check rightly fails and is left out. Its ACKs can wait
    // behind bytes QEMU holds (see WATCHDOG_MS), and a loaded CI machine slows QEMU further (a
    // HELLO answered after 994 ms, a CONFIG ACK later than 2 s were seen), hence a 5 s ACK wait.
    // The image as it ships (the profile's own limits), not this file's narrowed one: the
    // conformance tool configures the profile's limits and expects them accepted.
    const shipped = join(dir, 'image-shipped', `${PROFILE}.elf`);
    buildImage({ board: getBoard('mps2-an386'), profile: PROFILE, out: shipped });
    const ttyShipped = join(dir, 'shipped.tty');
    const own = new QemuRobot({ image: shipped, linkPath: ttyShipped, spawn: spawnProgram });
    const only = CHECK_IDS.filter((id) => id !== 'state-rate');
    const lines: string[] = [];
    let report;
    try {
      await own.start();
      report = await runConformance({ port: ttyShipped, profile: getProfile(PROFILE), only, ackTimeoutMs: 5000, confirm: async () => true, out: (l) => void lines.push(l) });
    } finally {
      await own.stop();
    }
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.detail}`), lines.join('\n')).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(only);
    expect(lines[0]).toMatch(/ACK wait 5000 ms instead of 500 ms/);
  }, 90_000);
});

describe.skipIf(!available)('spinal sim --firmware qemu', () => {
  it('prints the tty, keeps the stable link on it, and QEMU dies with the sim when it is SIGKILLed', async () => {
    const link = join(dir, 'cli.tty');
    const sim = spawnNodeChild(spinalArgv('sim', '--firmware', 'qemu', '--profile', PROFILE, '--image', image, '--link', link), { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: sim.stdout as NodeJS.ReadableStream });
      rl.once('line', (l) => resolve(l.trim()));
      sim.once('exit', (code) => reject(new Error(`sim exited with code ${code}`)));
    });
    try {
      expect(first).toMatch(/^\/dev\/pts\/\d+$/);
      expect(readlinkSync(link)).toBe(first);
      const qemu = descendants(sim.pid ?? -1).filter((p) => p.cmdline.includes('qemu-system-arm'));
      expect(qemu).toHaveLength(1);
      sim.kill('SIGKILL');
      expect(await waitGone(qemu.map((p) => p.pid), 10_000)).toEqual([]);
    } finally {
      sim.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses, naming the path, an image that does not exist', async () => {
    const missing = join(dir, 'no-such-image.elf');
    const run = spawnNodeChild(spinalArgv('sim', '--firmware', 'qemu', '--profile', PROFILE, '--image', missing), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    run.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => run.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain(`no firmware image at ${missing}`);
  }, 60_000);
});
