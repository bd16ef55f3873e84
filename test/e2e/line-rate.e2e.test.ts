/**
 * A slow line, modelled by the virtual firmware (VirtualRobot baudRate: 8N1 each way on the PTY).
 *
 * Link level: COMMANDs pushed faster than 115200 baud carries are shed by the wire, the bytes
 * waiting for the line stay within about the motion queue (two COMMANDs) plus a few small frames, the
 * MCU watchdog is never starved and the link stays up; without pacing, the same push queues
 * kilobytes of stale commands in front of every heartbeat and e-stop. At 1 Mbaud the same 200 Hz
 * stream fits and nothing is shed.
 *
 * Daemon level: `startEdgeDaemon` refuses the default rates at 115200 baud with the numbers, and
 * with serial.lineOverload "shed" streams ACTIVE motion at 200 Hz over the 115200-baud line with
 * COMMANDs shed and reported, no ESTOP and no watchdog trip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import { BrainServer } from '../../cloud/brain/brain-server.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { DaemonConfigError, startEdgeDaemon, type EdgeDaemon } from '../../edge/daemon.js';
import { commandFrameBytes, SMALL_FRAME_BYTES } from '../../edge/serial/line-budget.js';
import type { ShedEvent } from '../../edge/serial/serial-link-types.js';
import { VirtualRobot } from '../../firmware-shim/virtual/virtual-robot.js';
import { newCommand } from '../../proto/wire/index.js';
import { startRig, waitFor, type Rig } from './link-harness.js';

const PROFILE = 'arm6-gripper';
const JOINTS = 7;
/**
 * What may wait for the line with pacing: the motion queue (two COMMANDs) and a few small frames,
 * twice: the firmware stamps the frames it finds after a late wake evenly over the time it was away
 * (virtual-robot.ts), so it may see a burst the host wrote just before a stall of this process up
 * to one wake later than it happened, behind which the host, by its own clock, may queue one more.
 */
const PACED_BOUND = 2 * (2 * commandFrameBytes(JOINTS) + 4 * SMALL_FRAME_BYTES);
/** The MCU watchdog, as the demo runs it: the firmware, the link and the test's sender share this
 * process, and a stall of this loaded machine silences all of them at once. */
const WATCHDOG_MS = 500;

let rig: Rig | null = null;
let dir: string | null = null;
let robot: VirtualRobot | null = null;
let brain: BrainServer | null = null;
let daemon: EdgeDaemon | null = null;
afterEach(async () => {
  await rig?.dispose();
  await daemon?.close();
  await brain?.stop();
  await robot?.stop();
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  rig = null; daemon = null; brain = null; robot = null; dir = null;
});

/** Pushes `perWake` HOLD COMMANDs every 5 ms until the MCU has obeyed `count` of them. */
async function push(r: Rig, perWake: number, count: number): Promise<{ accepted: number; tries: number }> {
  const cmd = newCommand();
  cmd.jointCount = JOINTS;
  cmd.mode = 1; // HOLD: obeyed, and the plant stays put
  let accepted = 0, tries = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < perWake; i++) {
      tries++;
      if (r.link.sendCommand(cmd)) accepted++;
    }
  }, 5);
  try {
    await waitFor(`${count} COMMANDs obeyed by the MCU`, () => r.robot.mcu.counters.commandsObeyed >= count, 15_000);
  } finally {
    clearInterval(timer);
  }
  return { accepted, tries };
}

describe('a 115200-baud line, link level', () => {
  it('sheds COMMANDs pushed beyond the line, keeps the queue to the line within about two COMMANDs, and keeps the MCU fed', async () => {
    rig = await startRig({ profile: PROFILE, stateRateHz: 50, baudRate: 115_200 }, { stateRateHz: 50, watchdogMs: WATCHDOG_MS, line: { bytesPerSecond: 11_520 } });
    const r = rig;
    const trouble: string[] = [];
    r.robot.on('watchdog', () => trouble.push('MCU watchdog tripped'));
    r.robot.on('estop', (e) => trouble.push(`MCU e-stop ${JSON.stringify(e)}`));
    r.link.on('lost', (e) => trouble.push(`link lost: ${e.reason}`));
    const shedEvents: ShedEvent[] = [];
    r.link.on('commands-shed', (e) => shedEvents.push(e));
    await waitFor('READY', () => r.link.state === 'READY', 10_000);
    const { accepted, tries } = await push(r, 3, 100);
    const h = r.link.health();
    expect(trouble).toEqual([]);
    // Three per wake: the third always finds two COMMANDs' worth of backlog ahead of it.
    expect(h.commandsShed).toBeGreaterThanOrEqual(Math.floor(tries / 3));
    expect(h.commandsShed + accepted).toBe(tries);
    expect(shedEvents.length).toBeGreaterThanOrEqual(1);
    expect(shedEvents[0]?.shed).toBeGreaterThan(0);
    const line = r.robot.rxLine;
    expect(line).not.toBeNull();
    expect(line?.counters.maxPending).toBeLessThanOrEqual(PACED_BOUND);
    expect(h.line.bytesPerSecond).toBe(11_520);
    expect(h.line.txBytes).toBeGreaterThan(100 * commandFrameBytes(JOINTS));
  });

  it('without pacing, the same push queues kilobytes in front of the MCU (what pacing prevents)', async () => {
    rig = await startRig({ profile: PROFILE, stateRateHz: 50, baudRate: 115_200 }, { stateRateHz: 50, watchdogMs: WATCHDOG_MS });
    const r = rig;
    await waitFor('READY', () => r.link.state === 'READY', 10_000);
    await push(r, 3, 40);
    expect(r.link.health().commandsShed).toBe(0);
    expect(r.robot.rxLine?.counters.maxPending).toBeGreaterThan(3 * PACED_BOUND);
  });

  it('at 1 Mbaud, 200 Hz COMMANDs fit: none is shed', async () => {
    rig = await startRig({ profile: PROFILE, stateRateHz: 200, baudRate: 1_000_000 }, { stateRateHz: 200, watchdogMs: WATCHDOG_MS, line: { bytesPerSecond: 100_000 } });
    const r = rig;
    const trouble: string[] = [];
    r.robot.on('watchdog', () => trouble.push('MCU watchdog tripped'));
    await waitFor('READY', () => r.link.state === 'READY', 10_000);
    const { accepted, tries } = await push(r, 1, 100);
    expect(trouble).toEqual([]);
    expect(r.link.health().commandsShed).toBe(0);
    expect(accepted).toBe(tries);
  });
});

describe('the daemon on a 115200-baud line', () => {
  it('refuses the default rates with the numbers before it loads anything', async () => {
    const config = parseEdgeConfig({ robot: { id: 'r1', profile: PROFILE }, serial: { path: '/nonexistent/tty', baudRate: 115_200 } }, 'test');
    const start = startEdgeDaemon(config, pino({ level: 'silent' }));
    await expect(start).rejects.toBeInstanceOf(DaemonConfigError);
    await expect(start).rejects.toThrow(/serial line: MCU → host needs 150520 bytes\/s .* serial\.baudRate=115200 carries 11520 bytes\/s.*host → MCU needs 20760 bytes\/s .*lower control\.rateHz to 98 or less/);
  });

  it('streams ACTIVE motion at 200 Hz with lineOverload "shed": COMMANDs shed and reported, no ESTOP, no watchdog trip', { timeout: 60_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'spinal-line-'));
    const ttyPath = join(dir, 'robot.tty');
    robot = new VirtualRobot({ profile: PROFILE, stateRateHz: 50, baudRate: 115_200, linkPath: ttyPath });
    await robot.start();
    const trouble: string[] = [];
    robot.on('watchdog', () => trouble.push('MCU watchdog tripped'));
    robot.on('estop', (e) => trouble.push(`MCU e-stop ${JSON.stringify(e)}`));
    brain = await BrainServer.start({ host: '127.0.0.1', port: 0, tls: null, robots: ['r1'], backend: new ReferenceBackend(), planValidityMs: 1000, drainTimeoutMs: 200 });
    const config = parseEdgeConfig({
      // A 500 ms host watchdog as the demo uses: robot, brain and daemon share this process.
      robot: { id: 'r1', profile: PROFILE },
      serial: { path: ttyPath, baudRate: 115_200, stateRateHz: 50, watchdogMs: 500, lineOverload: 'shed' },
      control: { rateHz: 200, mainStallBoundMs: 2000 },
      cloud: { target: `127.0.0.1:${brain.port}`, observationRateHz: 10 },
    }, 'test');
    daemon = await startEdgeDaemon(config, pino({ level: 'silent' }));
    const d = daemon;
    // The daemon's tick thread writes the wire by its own clock while the virtual firmware reads it
    // on this thread: a stall of this thread leaves what the line carried meanwhile waiting.
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const shedEvents: ShedEvent[] = [];
    d.link.on('commands-shed', (e) => shedEvents.push(e));
    d.link.on('lost', (e) => trouble.push(`link lost: ${e.reason}`));
    d.supervisor.on('transition', (e) => { if (e.to === 'ESTOP' || e.to === 'FAULT') trouble.push(`${e.to} (${e.cause}: ${e.detail ?? ''})`); });
    await waitFor('serial READY and safety IDLE', () => d.link.state === 'READY' && d.supervisor.state === 'IDLE' && d.supervisor.mcuLatch !== 'unknown', 10_000);
    await waitFor('cloud session ACTIVE', () => d.cloud?.linkState === 'ACTIVE', 10_000);
    await brain.setTask('r1', 'hold');
    await waitFor('a plan for the task', () => (d.cloud?.currentPlan()?.taskId ?? '') !== '', 5000);
    expect(d.supervisor.resume({ id: 'op', role: 'operator' })).toBe(true);
    const obeyedAtResume = robot.mcu.counters.commandsObeyed;
    const r = robot;
    await waitFor('200 COMMANDs obeyed and a shed report', () => r.mcu.counters.commandsObeyed >= obeyedAtResume + 200 && shedEvents.length > 0, 20_000)
      .catch((e: Error) => { throw new Error(`${e.message}; trouble: ${trouble.join(', ')}`); });
    expect(trouble).toEqual([]);
    expect(d.supervisor.state).toBe('ACTIVE');
    const h = d.link.health();
    expect(h.commandsShed).toBeGreaterThan(0);
    expect(h.reconnects).toBe(0);
    stalls.disable();
    // + the handshake (HELLO, CONFIG), + what 115200 baud carries (11520 bytes/s) during the longest stall of the reader.
    const stallBytes = Math.ceil(11_520 * stalls.max / 1e9);
    expect(robot.rxLine?.counters.maxPending, `longest stall of the virtual firmware's thread ${(stalls.max / 1e6).toFixed(0)} ms`).toBeLessThanOrEqual(PACED_BOUND + 200 + stallBytes);
  });
});
