import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile, radToCounts } from '../../hardware/index.js';
import {
  AckResult, CommandMode, EstopReason, EstopSource, FrameDecoder, FrameEncoder, MsgType, Role, Status, newMessage, readFrame,
  type Frame, type MessageMap,
} from '../../proto/wire/index.js';
import { hostNowUs, VirtualRobot } from './virtual-robot.js';

interface Got { type: number; seq: number; timeUs: number; atUs: number; msg: MessageMap[MsgType] }

/** The edge's side of the link, reduced to what the tests need: real serialport + TS decoder. */
class Host {
  readonly frames: Got[] = [];
  readonly decoder = new FrameDecoder();
  readonly closed: Promise<void>;
  private readonly enc = new FrameEncoder();
  private waiters: Array<{ pred: (g: Got) => boolean; resolve: (g: Got) => void }> = [];

  private constructor(readonly port: SerialPort) {
    const sink = {
      onFrame: (f: Frame): void => {
        const msg = newMessage(f.type as MsgType);
        if (readFrame(f, f.type as MsgType, msg) !== null) return;
        const g: Got = { type: f.type, seq: f.seq, timeUs: f.timeUs, atUs: hostNowUs(), msg };
        this.frames.push(g);
        this.waiters = this.waiters.filter((w) => (w.pred(g) ? (w.resolve(g), false) : true));
      },
    };
    port.on('data', (chunk: Buffer) => this.decoder.push(chunk, sink));
    port.on('error', () => undefined);
    this.closed = new Promise((resolve) => port.on('close', () => resolve()));
  }

  static open(p: string, baudRate: number): Promise<Host> {
    return new Promise((resolve, reject) => {
      const sp = new SerialPort({ path: p, baudRate }, (err) => (err ? reject(err) : resolve(new Host(sp))));
    });
  }

  send<T extends MsgType>(type: T, msg: MessageMap[T]): void {
    this.port.write(this.enc.encode(type, msg, 0));
  }

  hello(profileId: string, joints: number): void {
    this.send(MsgType.HELLO, { protoMajor: 1, protoMinor: 0, fwMajor: 0, fwMinor: 1, fwPatch: 0, jointCount: joints, role: Role.HOST, capabilities: 0, profileId, deviceId: 0 });
  }

  /** The next frame (from now on) matching `pred`; rejects after `ms`. */
  next(pred: (g: Got) => boolean, ms = 2000): Promise<Got> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching frame within ${ms} ms`)), ms);
      this.waiters.push({ pred, resolve: (g) => { clearTimeout(t); resolve(g); } });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('VirtualRobot over a PTY', () => {
  const robots: VirtualRobot[] = [];
  const hosts: Host[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.close();
    for (const r of robots.splice(0)) await r.stop();
  });

  it('with a baud rate, sends no faster than the line and drops whole STATE frames it cannot send', async () => {
    const t0 = hostNowUs();
    const robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: 1000, baudRate: 115_200 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    const host = await Host.open(ttyPath, 115_200);
    hosts.push(host);
    let bytes = 0;
    host.port.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    await host.next((g) => g.type === MsgType.STATE);
    // Opening the port flushes what waited: the frame cut there is the host joining mid-stream.
    const errorsAtFirst = host.decoder.counters.crcErrors + host.decoder.counters.cobsErrors;
    await sleep(400);
    const elapsedS = (hostNowUs() - t0) / 1e6;
    // 1000 STATEs/s of 150 bytes into a line of 11520 bytes/s: the line sets the pace.
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(11_520 * elapsedS + 150);
    expect(robot.tx.counters.framesDropped).toBeGreaterThan(0);
    expect(host.decoder.counters.crcErrors + host.decoder.counters.cobsErrors - errorsAtFirst).toBe(0);
  });

  it('answers HELLO and streams STATE at the configured rate, none lost', async () => {
    const profile = getProfile('arm6-gripper');
    const robot = new VirtualRobot({ profile: 'arm6-gripper', stateRateHz: 1000 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    const host = await Host.open(ttyPath, profile.serial.baudRate);
    hosts.push(host);

    const hello = host.next((g) => g.type === MsgType.HELLO);
    host.hello('arm6-gripper', 7);
    const h = (await hello).msg as MessageMap[typeof MsgType.HELLO];
    expect(h).toMatchObject({ role: Role.MCU, profileId: 'arm6-gripper', jointCount: 7 });

    // Rate: STATE frames the MCU sent over one second of host time (the loop catches up against
    // the monotonic clock, so this is exact up to the last wake's lateness); and the host got them
    // all, in sequence.
    const first = await host.next((g) => g.type === MsgType.STATE);
    const s0 = robot.mcu.counters.stateSent, t0 = hostNowUs();
    await sleep(1000);
    const s1 = robot.mcu.counters.stateSent, t1 = hostNowUs();
    const rate = ((s1 - s0) * 1e6) / (t1 - t0);
    expect(rate).toBeGreaterThan(950);
    expect(rate).toBeLessThan(1050); // a stall just before t0 is caught up inside the window
    const states = host.frames.filter((g) => g.type === MsgType.STATE && g.atUs >= first.atUs);
    const last = states.at(-1) as Got;
    const seqSpan = (last.seq - first.seq) & 0xffff;
    expect(states).toHaveLength(seqSpan + 1);
    expect(host.decoder.counters.seqLost).toBe(0);
    expect(host.decoder.counters.crcErrors).toBe(0);
    expect(robot.tx.counters.framesDropped).toBe(0);
    expect(robot.mcu.counters.stateSkipped).toBe(0);
    const s = last.msg as MessageMap[typeof MsgType.STATE];
    expect(s.status & Status.HOST_SEEN).toBeTruthy();
    console.info(`STATE: ${rate.toFixed(1)} Hz over ${((t1 - t0) / 1e3).toFixed(0)} ms; ${seqSpan + 1} received in sequence; loop wakes ${robot.loopWakes}`);
  });

  it('stops the motors when the host falls silent, within the watchdog timeout', async () => {
    const profile = getProfile('quadruped12');
    const robot = new VirtualRobot({ profile, stateRateHz: 500 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    const host = await Host.open(ttyPath, profile.serial.baudRate);
    hosts.push(host);
    const tripped = new Promise<number>((resolve) => robot.once('watchdog', () => resolve(hostNowUs())));

    const c = newMessage(MsgType.COMMAND);
    c.jointCount = 12; c.mode = CommandMode.HOLD;
    const enabled = host.next((g) => g.type === MsgType.STATE && ((g.msg as MessageMap[typeof MsgType.STATE]).status & Status.MOTORS_ENABLED) !== 0);
    host.send(MsgType.COMMAND, c);
    const sentAt = (await enabled).atUs; // the command has been obeyed by now
    const estop = host.next((g) => g.type === MsgType.ESTOP);
    const trippedAt = await tripped;
    // Trips no earlier than the timeout after the last feed; generous upper bound for scheduling.
    expect(trippedAt - sentAt).toBeLessThan((profile.serial.watchdogMs + 150) * 1000);
    expect((await estop).msg).toEqual({ category: 1, source: EstopSource.MCU_WATCHDOG, reason: EstopReason.WATCHDOG });
    const off = await host.next((g) => g.type === MsgType.STATE && ((g.msg as MessageMap[typeof MsgType.STATE]).status & Status.MOTORS_ENABLED) === 0);
    expect((off.msg as MessageMap[typeof MsgType.STATE]).status & Status.WATCHDOG_TRIPPED).toBeTruthy();
    expect(robot.watchdogTripped).toBe(true);
    expect(robot.lastCommand?.mode).toBe(CommandMode.HOLD);
  });

  it('answers TIME_SYNC_REQ with MCU times between send and receive', async () => {
    const robot = new VirtualRobot({ profile: 'quadruped12', stateRateHz: 100 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    const host = await Host.open(ttyPath, 4_000_000);
    hosts.push(host);
    const resp = host.next((g) => g.type === MsgType.TIME_SYNC_RESP);
    const t0 = hostNowUs();
    host.send(MsgType.TIME_SYNC_REQ, { id: 5 });
    const got = await resp;
    const t3 = got.atUs;
    const m = got.msg as MessageMap[typeof MsgType.TIME_SYNC_RESP];
    expect(m.id).toBe(5);
    const lo = robot.mcuTimeAt(t0), hi = robot.mcuTimeAt(t3);
    expect((m.mcuRxUs - lo) >>> 0).toBeLessThanOrEqual((hi - lo) >>> 0);
    expect((m.mcuTxUs - m.mcuRxUs) >>> 0).toBeLessThanOrEqual((hi - lo) >>> 0);
  });

  it('unplug closes the host port; replug reappears at the same path and says HELLO', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spinal-vr-'));
    const link = path.join(dir, 'ttyROBOT');
    const robot = new VirtualRobot({ profile: 'quadruped12', linkPath: link, stateRateHz: 200 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    expect(ttyPath).toBe(link);
    const host = await Host.open(link, 4_000_000);
    hosts.push(host);
    await host.next((g) => g.type === MsgType.STATE);

    await robot.unplug();
    await host.closed;
    expect(fs.existsSync(link)).toBe(false);

    const again = await robot.replug();
    expect(again.ttyPath).toBe(link);
    const host2 = await Host.open(link, 4_000_000);
    hosts.push(host2);
    const hello = host2.next((g) => g.type === MsgType.HELLO);
    host2.hello('quadruped12', 12);
    expect(((await hello).msg as MessageMap[typeof MsgType.HELLO]).profileId).toBe('quadruped12');
    // A power cycle: the firmware forgot the host until it spoke again.
    expect(robot.mcu.counters.received['HELLO']).toBe(1);
    await robot.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('obeys a position COMMAND sent over the link', async () => {
    const profile = getProfile('arm6-gripper');
    const robot = new VirtualRobot({ profile, stateRateHz: 200 });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    const host = await Host.open(ttyPath, profile.serial.baudRate);
    hosts.push(host);
    const commands: boolean[] = [];
    robot.on('command', (_c, obeyed) => commands.push(obeyed));
    const c = newMessage(MsgType.COMMAND);
    c.jointCount = 7; c.mode = CommandMode.POSITION;
    const target = profile.joints.map((j) => (j.limits.positionMin + j.limits.positionMax) / 2 + 0.05);
    profile.joints.forEach((j, i) => { c.position[i] = radToCounts(j, target[i] as number); });
    // Motion before CONFIG is refused: the firmware has no limits to clamp to yet.
    const ignored = new Promise<boolean>((resolve) => robot.once('command', (_c, obeyed) => resolve(obeyed)));
    host.send(MsgType.COMMAND, c);
    expect(await ignored).toBe(false);
    const cfg = newMessage(MsgType.CONFIG);
    cfg.jointCount = 7;
    // A 2 s MCU watchdog: host and firmware share this thread, and a stall of it on a loaded
    // machine (over the 100 ms default) is not what this test is about.
    cfg.watchdogMs = 2000;
    profile.joints.forEach((j, i) => {
      const a = radToCounts(j, j.limits.positionMin), b = radToCounts(j, j.limits.positionMax);
      cfg.posMin[i] = Math.min(a, b); cfg.posMax[i] = Math.max(a, b); cfg.velMax[i] = 1e6; cfg.currentMax[i] = 100;
    });
    const ack = host.next((g) => g.type === MsgType.ACK);
    host.send(MsgType.CONFIG, cfg);
    expect(((await ack).msg as MessageMap[typeof MsgType.ACK]).result).toBe(AckResult.OK);
    commands.length = 0;
    const trips: number[] = [];
    robot.on('watchdog', () => trips.push(commands.length));
    for (let k = 0; k < 40; k++) { host.send(MsgType.COMMAND, c); await sleep(20); }
    expect(commands.length).toBeGreaterThan(30);
    expect(commands.every(Boolean), `obeyed: ${commands.join(',')}; watchdog trips after command #${trips.join(', #')}`).toBe(true);
    expect(robot.plant.truth.q[0]).toBeCloseTo(target[0] as number, 2);
  });
});

/**
 * The loop's own process stalls while the host keeps writing: the stall is made deterministic by
 * an injected clock advanced inside one synchronous block (no wake and no data event can run in
 * it), with the host's frames written straight to the slave during the block.
 */
describe('VirtualRobot when its own process stalls', () => {
  const robots: VirtualRobot[] = [];
  const hosts: Host[] = [];
  const fds: number[] = [];
  afterEach(async () => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
    for (const h of hosts.splice(0)) await h.close();
    for (const r of robots.splice(0)) await r.stop();
  });

  /** Polls a condition each millisecond (the test's own event loop must run for the robot's). */
  async function until(pred: () => boolean): Promise<void> {
    while (!pred()) await sleep(1);
  }

  /** A robot on a frozen clock whose host has fed the watchdog once (it is armed). */
  async function armedRobot() {
    let nowUs = hostNowUs();
    const robot = new VirtualRobot({ profile: 'quadruped12', stateRateHz: 100, clockUs: () => nowUs });
    robots.push(robot);
    const { ttyPath } = await robot.start();
    // serialport's open makes the tty fully raw (node's raw mode keeps ONLCR, which would turn a
    // 0x0A written on the slave into 0x0D 0x0A); termios belong to the tty, so our plain
    // descriptor, written synchronously, gets the same.
    hosts.push(await Host.open(ttyPath, 4_000_000));
    const fd = fs.openSync(ttyPath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    fds.push(fd);
    const enc = new FrameEncoder();
    const heartbeats = () => robot.mcu.counters.received['HEARTBEAT'] ?? 0;
    const heartbeat = () => { fs.writeSync(fd, enc.encode(MsgType.HEARTBEAT, { hostState: 0 }, 0)); };
    heartbeat();
    await until(() => heartbeats() === 1);
    /** Advances the clock by `ms` in `steps` equal steps inside one synchronous block, the host
     * making a HEARTBEAT after each of the first `beats` steps; then waits for the late wake. The
     * HEARTBEATs go to the slave in one write: separate writes are separate pushes to the master,
     * and a read between two of the kernel's pushes would take only the first frames (spread over
     * the whole stall, their gaps would trip the watchdog). To the robot, whose clock is frozen
     * during the block, one write and several are the same input. */
    const stall = async (ms: number, steps: number, beats: number) => {
      const before = heartbeats();
      const pending: Uint8Array[] = [];
      for (let s = 1; s <= steps; s++) {
        nowUs += (ms * 1000) / steps;
        if (s <= beats) pending.push(enc.encode(MsgType.HEARTBEAT, { hostState: 0 }, 0).slice());
      }
      if (pending.length > 0) fs.writeSync(fd, Buffer.concat(pending));
      const wakes = robot.loopWakes;
      await until(() => heartbeats() === before + beats && robot.loopWakes > wakes);
    };
    return { robot, stall };
  }

  it('takes the bytes that waited during the stall before replaying it: a host that kept talking is not cut off', async () => {
    const { robot, stall } = await armedRobot();
    const statesBefore = robot.mcu.counters.stateSent;
    // 300 ms, three watchdog timeouts, with a HEARTBEAT every 20 ms waiting in the PTY.
    await stall(300, 15, 15);
    expect(robot.mcu.counters.watchdogTrips).toBe(0);
    expect(robot.watchdogTripped).toBe(false);
    // The missed time was replayed, not skipped: 100 Hz STATE over 300 ms.
    expect(robot.mcu.counters.stateSent - statesBefore).toBeGreaterThanOrEqual(30);
  });

  it('still trips the watchdog when the host said nothing during the stall', async () => {
    const { robot, stall } = await armedRobot();
    await stall(300, 1, 0);
    expect(robot.mcu.counters.watchdogTrips).toBe(1);
    expect(robot.watchdogTripped).toBe(true);
  });

  it('still trips the watchdog when the host sent too few frames to have kept every gap under the timeout', async () => {
    const { robot, stall } = await armedRobot();
    // Two frames in 300 ms: whenever they arrived, some gap was at least 100 ms.
    await stall(300, 2, 2);
    expect(robot.mcu.counters.watchdogTrips).toBe(1);
  });
});
