/**
 * The serial line end to end: the virtual firmware on a real pseudo-terminal, the edge's SerialLink
 * on the real `serialport` library.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandMode, newCommand, Status } from '../../proto/wire/index.js';
import { radToCounts, getProfile } from '../../hardware/index.js';
import { hostNowUs } from '../../firmware-shim/virtual/virtual-robot.js';
import { startRig, sleep, waitFor, type Rig } from './link-harness.js';

/**
 * Watches STATE events and snapshots the decoder's counters at the first and the latest one, so
 * arrivals and losses can be compared with the span of sequence numbers (which every frame type
 * shares) over exactly the same stretch of the stream.
 */
function trackWindow(link: Rig['link']): { seqSpan(): number; framesArrived(): number; framesLost(): number; states(): number } {
  let first = -1, last = -1, states = 0;
  let f0 = 0, l0 = 0, f1 = 0, l1 = 0;
  link.on('state', (ev) => {
    const d = link.health().decoder;
    if (first < 0) { first = ev.seq; f0 = d.frames; l0 = d.seqLost; }
    last = ev.seq; f1 = d.frames; l1 = d.seqLost;
    states++;
  });
  return {
    seqSpan: () => (first < 0 ? 0 : (last - first) & 0xffff),
    framesArrived: () => f1 - f0,
    framesLost: () => l1 - l0,
    states: () => states,
  };
}

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.dispose();
  rig = null;
});

describe('serial link over a PTY', () => {
  it('carries 10 s of STATE at 1 kHz from the virtual firmware with no loss on a clean line', async () => {
    rig = await startRig({ profile: 'arm6-gripper', stateRateHz: 1000 });
    const { link, robot } = rig;
    await waitFor('READY', () => link.state === 'READY');
    const window = trackWindow(link);
    const before = { ...link.health().decoder };
    const sentBefore = robot.mcu.counters.stateSent;
    const droppedBefore = robot.tx.counters.framesDropped;
    await sleep(10_000);
    const after = link.health().decoder;
    const sent = robot.mcu.counters.stateSent - sentBefore;
    // Every sequence number between the first and the last STATE seen arrived: nothing lost.
    expect(window.framesArrived()).toBe(window.seqSpan());
    expect(after.seqLost - before.seqLost).toBe(0);
    expect(after.crcErrors - before.crcErrors).toBe(0);
    expect(after.resyncs - before.resyncs).toBe(0);
    expect(robot.tx.counters.framesDropped - droppedBefore).toBe(0);
    expect(robot.mcu.counters.stateSkipped).toBe(0);
    // The firmware held its rate (its loop catches up against the clock), and the host kept up.
    expect(sent).toBeGreaterThan(9_900);
    expect(window.states()).toBeGreaterThanOrEqual(sent - 5);
    expect(link.state).toBe('READY');
  }, 30_000);

  it('comes back by itself after the device is unplugged and plugged in again', async () => {
    rig = await startRig({ profile: 'quadruped12' });
    const { link, robot, states } = rig;
    await waitFor('READY', () => link.state === 'READY');
    const lost: { reason: string; disconnected: boolean }[] = [];
    link.on('lost', (ev) => lost.push(ev));
    states.length = 0;
    await robot.unplug();
    await waitFor('link to notice the unplug', () => lost.length > 0);
    expect(lost[0]?.disconnected).toBe(true);
    await sleep(300); // the link retries against a missing device meanwhile
    await robot.replug();
    await waitFor('READY again', () => link.state === 'READY');
    expect(states[0]).toBe('BACKOFF');
    expect(states.slice(-4)).toEqual(['OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY']);
    expect(link.health().reconnects).toBeGreaterThanOrEqual(1);
    let frames = 0;
    link.on('state', () => { frames++; });
    await sleep(200);
    expect(frames).toBeGreaterThan(50);
  }, 30_000);

  it('notices a device that vanishes mid-stream by its silence, and reconnects when it returns', async () => {
    rig = await startRig({ profile: 'arm6-gripper', stateRateHz: 1000 });
    const { link, robot, states } = rig;
    await waitFor('READY', () => link.state === 'READY');
    const lost: { reason: string; disconnected: boolean }[] = [];
    link.on('lost', (ev) => lost.push(ev));
    states.length = 0;
    await robot.unplug({ abrupt: true });
    // Either serialport reports the close, or the link's silence timeout (3 x watchdog) fires.
    await waitFor('link to notice the vanished device', () => lost.length > 0, 3000);
    expect(states[0]).toBe('BACKOFF');
    await robot.replug();
    await waitFor('READY again', () => link.state === 'READY', 5000);
    let frames = 0;
    link.on('state', () => { frames++; });
    await sleep(200);
    expect(frames).toBeGreaterThan(100);
  }, 30_000);

  it('stops motion in the firmware within its watchdog timeout when the host goes silent', async () => {
    const profile = getProfile('arm6-gripper');
    rig = await startRig({ profile: 'arm6-gripper', stateRateHz: 500 });
    const { link, robot } = rig;
    await waitFor('READY', () => link.state === 'READY');
    // Drive joint 0 towards a far target so it is moving when the host falls silent.
    const cmd = newCommand();
    cmd.jointCount = profile.joints.length;
    cmd.mode = CommandMode.POSITION;
    profile.joints.forEach((j, i) => { cmd.position[i] = radToCounts(j, robot.plant.truth.q[i] as number); });
    const j0 = profile.joints[0];
    if (!j0) throw new Error('profile without joints');
    cmd.position[0] = radToCounts(j0, j0.limits.positionMax * 0.9);
    for (let k = 0; k < 30; k++) {
      expect(link.sendCommand(cmd)).toBe(true);
      await sleep(10);
    }
    await waitFor('joint 0 moving', () => Math.abs(robot.plant.truth.qd[0] as number) > 0.05, 2000);
    expect(robot.motorsEnabled).toBe(true);
    let trippedAt = 0;
    robot.on('watchdog', () => { trippedAt = hostNowUs(); });
    const silentFrom = hostNowUs();
    await link.stop(); // the host process is gone: no COMMAND, no HEARTBEAT
    await waitFor('watchdog trip', () => trippedAt > 0, 2000);
    const watchdogMs = profile.serial.watchdogMs;
    const tripDelayMs = (trippedAt - silentFrom) / 1000;
    // Trips no earlier than the timeout (measured from the last frame, sent before silentFrom)...
    expect(tripDelayMs).toBeGreaterThan(watchdogMs - 25);
    // ...and not much later: the firmware checks its watchdog on every loop tick.
    expect(tripDelayMs).toBeLessThan(watchdogMs + 50);
    await waitFor('controlled stop to finish', () => !robot.motorsEnabled, 2000);
    expect(robot.watchdogTripped).toBe(true);
    await waitFor('joint 0 at rest', () => Math.abs(robot.plant.truth.qd[0] as number) < 0.01, 2000);
  }, 30_000);

  it('counts every loss on a noisy line and stays up', async () => {
    rig = await startRig({ profile: 'arm6-gripper', stateRateHz: 1000, faults: { bitErrorRate: 1e-4, garbageRate: 1e-4, dropRate: 1e-5 } });
    const { link, robot } = rig;
    await waitFor('READY', () => link.state === 'READY', 10_000);
    const window = trackWindow(link);
    const before = { ...link.health().decoder };
    await sleep(3000);
    const d = link.health().decoder;
    expect(link.state).toBe('READY');
    expect(robot.lineFaults.counters.bitsFlipped).toBeGreaterThan(100);
    expect(d.crcErrors - before.crcErrors + d.cobsErrors - before.cobsErrors).toBeGreaterThan(10);
    // Between the first and the last STATE seen, every sequence number either arrived or is
    // counted lost: losses are counted exactly.
    expect(window.framesArrived() + window.framesLost()).toBe(window.seqSpan());
    expect(window.framesLost()).toBeGreaterThan(0);
  }, 30_000);

  it('refuses firmware whose joint count disagrees with the configured profile, naming both', async () => {
    rig = await startRig({ profile: 'arm6-gripper' }, { profile: getProfile('quadruped12') });
    const messages: string[] = [];
    rig.link.on('incompatible', (ev) => messages.push(ev.message));
    await waitFor('refusal', () => messages.length > 0);
    expect(messages[0]).toMatch(/7/);
    expect(messages[0]).toMatch(/12/);
    expect(rig.link.state).not.toBe('READY');
  }, 15_000);

  it('reports MCU status: an ESTOP from the host latches in the firmware and shows in STATE', async () => {
    rig = await startRig({ profile: 'arm6-gripper' });
    const { link, robot } = rig;
    await waitFor('READY', () => link.state === 'READY');
    let status = 0;
    link.on('state', (ev) => { status = ev.msg.status; });
    expect(link.sendEstop(0, 0, 1)).toBe(true);
    await waitFor('ESTOP_LATCHED in STATE', () => (status & Status.ESTOP_LATCHED) !== 0, 2000);
    expect(robot.estopLatched).toBe(true);
  }, 15_000);
});
