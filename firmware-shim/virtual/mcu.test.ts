import { describe, expect, it } from 'vitest';
import { getProfile, Plant, radPerSecToCps, radToCounts, type RobotProfile } from '../../hardware/index.js';
import {
  AckResult, Capability, PROTOCOL_MINOR, CommandMode, cobsEncode, crc32c, EstopReason, EstopSource, FrameDecoder, FrameEncoder, MsgType, ResetWhat, Role, StateFlag, Status,
  newMessage, readFrame, type Frame, type MessageMap,
} from '../../proto/wire/index.js';
import { Mcu, stopRampUs } from './mcu.js';

interface Rx { type: number; seq: number; timeUs: number; msg: unknown }

/**
 * The C firmware core (WebAssembly) on a simulated board and a manual clock, with a host-side
 * encoder and decoder. Times in host µs. Unless `configured` is false, the host has sent a CONFIG
 * whose limits are wider than the robot's (the core's own limits, from the profile, then apply):
 * the core refuses motion before a CONFIG.
 */
function rig(profileId = 'arm6-gripper', opts: { stateRateHz?: number; configured?: boolean } = {}) {
  const profile: RobotProfile = getProfile(profileId);
  const plant = new Plant(profile, { seed: 7 });
  const frames: Rx[] = [];
  const decoder = new FrameDecoder();
  const sink = {
    onFrame(f: Frame): void {
      const msg = newMessage(f.type as MsgType);
      const err = readFrame(f, f.type as MsgType, msg);
      if (err !== null) throw new Error(`MCU sent a bad ${f.type}: ${err}`);
      frames.push({ type: f.type, seq: f.seq, timeUs: f.timeUs, msg });
    },
  };
  const mcu = new Mcu({ profile, plant, send: (b, n) => decoder.push(b.subarray(0, n), sink), ...(opts.stateRateHz !== undefined ? { stateRateHz: opts.stateRateHz } : {}) });
  const host = new FrameEncoder();
  let now = 1_000_000;
  mcu.boot(now);
  const n = profile.joints.length;
  if (opts.configured ?? true) {
    const cfg = newMessage(MsgType.CONFIG);
    cfg.jointCount = n;
    for (let j = 0; j < n; j++) { cfg.posMin[j] = -(2 ** 31); cfg.posMax[j] = 2 ** 31 - 1; cfg.velMax[j] = 1e9; cfg.currentMax[j] = 1e3; }
    mcu.handleBytes(host.encode(MsgType.CONFIG, cfg, 0), now);
  }
  return {
    profile, plant, mcu, frames, n,
    get now() { return now; },
    /** Advances the manual clock in 1 ms ticks. */
    advance(ms: number): void {
      for (let i = 0; i < ms; i++) { now += 1000; mcu.tick(now); }
    },
    sendMsg<T extends MsgType>(type: T, msg: MessageMap[T]): void {
      mcu.handleBytes(host.encode(type, msg, 0), now);
    },
    sendRaw(bytes: Uint8Array): void { mcu.handleBytes(bytes, now); },
    /** A COMMAND holding every joint at its present angle, in `mode`. */
    command(mode: number, velRadS = 0): void {
      const c = newMessage(MsgType.COMMAND);
      c.jointCount = n; c.mode = mode;
      profile.joints.forEach((j, i) => {
        c.position[i] = radToCounts(j, plant.truth.q[i] as number);
        c.velocity[i] = radPerSecToCps(j, velRadS);
      });
      mcu.handleBytes(host.encode(MsgType.COMMAND, c, 0), now);
    },
    of<T extends MsgType>(type: T): MessageMap[T][] {
      return frames.filter((f) => f.type === type).map((f) => f.msg as MessageMap[T]);
    },
    lastState(): MessageMap[typeof MsgType.STATE] {
      const s = frames.filter((f) => f.type === MsgType.STATE).at(-1);
      if (!s) throw new Error('no STATE yet');
      return s.msg as MessageMap[typeof MsgType.STATE];
    },
  };
}

describe('Mcu STATE.imu_sample (SPEC 1.1)', () => {
  it('counts the IMU\'s own samples: it advances at the IMU rate, stays put between samples, never 0 once sampled', () => {
    const r = rig('arm6-gripper');
    r.advance(200);
    const states = r.of(MsgType.STATE).filter((s) => (s.flags & StateFlag.IMU) !== 0);
    expect(states.length).toBeGreaterThan(50);
    const counters = states.map((s) => s.imuSample);
    expect(counters.every((c) => c !== 0)).toBe(true);
    const steps = counters.slice(1).map((c, i) => c - (counters[i] as number));
    expect(steps.every((d) => d === 0 || d === 1)).toBe(true);
    const imuRate = r.profile.imu?.rateHz ?? 0;
    // Over 200 ms the counter advanced by the IMU's samples in that time (±1 for the edges).
    expect(Math.abs((counters.at(-1) as number) - (counters[0] as number) - (imuRate * (states.length - 1)) / r.profile.serial.stateRateHz)).toBeLessThanOrEqual(1);
  });
});

describe('Mcu HELLO', () => {
  it('says hello on boot and in answer to the host, with the profile in it', () => {
    const r = rig('arm6-gripper', { configured: false });
    const boot = r.of(MsgType.HELLO);
    expect(boot).toHaveLength(1);
    const h = boot[0];
    expect(h).toMatchObject({ protoMajor: 1, protoMinor: PROTOCOL_MINOR, fwMajor: 1, fwMinor: 2, fwPatch: 0, jointCount: 7, role: Role.MCU, profileId: 'arm6-gripper' });
    const caps = h?.capabilities ?? 0;
    expect(caps & Capability.IMU).toBeTruthy();
    expect(caps & Capability.FUSED_ORIENTATION).toBeTruthy();
    expect(caps & Capability.TIME_SYNC).toBeTruthy();
    expect(caps & Capability.HARDWARE_ESTOP).toBe(0);
    expect(r.mcu.isHostSeen).toBe(false);

    r.sendMsg(MsgType.HELLO, { protoMajor: 1, protoMinor: 0, fwMajor: 0, fwMinor: 1, fwPatch: 0, jointCount: 7, role: Role.HOST, capabilities: 0, profileId: 'arm6-gripper', deviceId: 0 });
    expect(r.of(MsgType.HELLO)).toHaveLength(2);
    expect(r.mcu.isHostSeen).toBe(true);

    const q = rig('quadruped12', { configured: false }).of(MsgType.HELLO)[0];
    expect(q?.jointCount).toBe(12);
    expect((q?.capabilities ?? 0) & Capability.FUSED_ORIENTATION).toBe(0);
  });
});

describe('Mcu STATE', () => {
  it('sends STATE at the configured rate, with the blocks the profile has, stamped on the MCU clock', () => {
    const r = rig('arm6-gripper', { stateRateHz: 500 });
    r.advance(1000);
    const states = r.frames.filter((f) => f.type === MsgType.STATE);
    // 1 s of host time at 500 Hz of a clock 40 ppm fast: 500 frames plus the one due at boot.
    expect(states.length).toBe(501);
    const s = r.lastState();
    expect(s.jointCount).toBe(7);
    expect(s.flags).toBe(StateFlag.IMU | StateFlag.ORIENTATION);
    // time_us: 2000 µs apart in MCU time (whole µs), consistent with mcuTimeAt.
    const a = states[10] as Rx, b = states[11] as Rx;
    expect(((b.timeUs - a.timeUs) >>> 0)).toBeGreaterThanOrEqual(1999);
    expect(((b.timeUs - a.timeUs) >>> 0)).toBeLessThanOrEqual(2000);
    expect(r.mcu.mcuTimeAt(r.now)).toBe(Math.floor((r.now * (1 + 40e-6) + 2 ** 32 - 5e6) % 2 ** 32));

    const quad = rig('quadruped12');
    quad.advance(10);
    expect(quad.lastState().flags).toBe(StateFlag.IMU);
  });

  it('catches up after a late wake: every due frame, each at its own time', () => {
    const r = rig('quadruped12');
    r.mcu.tick(r.now + 50_000); // one wake 50 ms late at 1 kHz
    const states = r.frames.filter((f) => f.type === MsgType.STATE);
    expect(states.length).toBe(51);
    const seqs = states.map((s) => s.seq);
    expect(new Set(seqs).size).toBe(51);
    expect(r.mcu.counters.stateSkipped).toBe(0);
  });

  it('gives the same bytes and the same physics whether it wakes every millisecond or late', () => {
    const run = (wakeEveryMs: number): { bytes: number[]; q: number[] } => {
      const profile = getProfile('arm6-gripper');
      const plant = new Plant(profile, { seed: 11 });
      const bytes: number[] = [];
      const mcu = new Mcu({ profile, plant, send: (b, n) => { for (let i = 0; i < n; i++) bytes.push(b[i] as number); } });
      const host = new FrameEncoder();
      mcu.boot(1_000_000);
      const cfg = newMessage(MsgType.CONFIG);
      cfg.jointCount = 7;
      for (let j = 0; j < 7; j++) { cfg.posMin[j] = -(2 ** 31); cfg.posMax[j] = 2 ** 31 - 1; cfg.velMax[j] = 1e9; cfg.currentMax[j] = 1e3; }
      mcu.handleBytes(host.encode(MsgType.CONFIG, cfg, 0), 1_000_000);
      const c = newMessage(MsgType.COMMAND);
      c.jointCount = 7; c.mode = CommandMode.VELOCITY;
      profile.joints.forEach((j, i) => { c.velocity[i] = radPerSecToCps(j, 0.5); });
      mcu.handleBytes(host.encode(MsgType.COMMAND, c, 0), 1_000_000);
      // 600 ms: moving, then the watchdog's trip (100 ms) and its controlled stop.
      for (let t = wakeEveryMs; t <= 600; t += wakeEveryMs) mcu.tick(1_000_000 + t * 1000 + 321);
      expect(mcu.isWatchdogTripped).toBe(true);
      return { bytes, q: Array.from(plant.truth.q) };
    };
    const onTime = run(1);
    const late = run(40);
    expect(onTime.bytes.length).toBeGreaterThan(600 * 150);
    expect(late.bytes.length).toBe(onTime.bytes.length);
    expect(Buffer.from(late.bytes).equals(Buffer.from(onTime.bytes))).toBe(true);
    expect(late.q).toEqual(onTime.q);
  });

  it('wraps time_us modulo 2^32', () => {
    const r = rig('quadruped12');
    const before = r.mcu.mcuTimeAt(r.now);
    r.advance(6000); // default offset is 5 s before the wrap
    expect(r.mcu.mcuTimeAt(r.now)).toBeLessThan(before);
  });
});

describe('Mcu watchdog', () => {
  it('trips at the timeout and not before, with a controlled stop and an ESTOP report', () => {
    const r = rig('arm6-gripper');
    const wd = r.profile.serial.watchdogMs;
    r.command(CommandMode.VELOCITY, 0.5);
    r.advance(wd - 1);
    expect(r.mcu.isWatchdogTripped).toBe(false);
    expect(r.mcu.motorsEnabled).toBe(true);
    r.advance(2);
    expect(r.mcu.isWatchdogTripped).toBe(true);
    const e = r.of(MsgType.ESTOP);
    expect(e).toEqual([{ category: 1, source: EstopSource.MCU_WATCHDOG, reason: EstopReason.WATCHDOG }]);
    expect(r.lastState().status & Status.WATCHDOG_TRIPPED).toBeTruthy();
    // Category 1: ramp down within the acceleration limits, then power off.
    r.advance(stopRampUs(r.profile) / 1000 + 5);
    expect(r.mcu.isStopping).toBe(false);
    expect(r.mcu.motorsEnabled).toBe(false);
    // Latched: motion commands are ignored until RESET.
    r.command(CommandMode.POSITION);
    expect(r.mcu.motorsEnabled).toBe(false);
    expect(r.mcu.counters.commandsIgnored).toBe(1);
  });

  it('is fed by HEARTBEAT', () => {
    const r = rig('quadruped12');
    r.command(CommandMode.HOLD);
    for (let i = 0; i < 40; i++) {
      r.advance(25);
      r.sendMsg(MsgType.HEARTBEAT, { hostState: 2 });
    }
    expect(r.mcu.isWatchdogTripped).toBe(false);
    expect(r.mcu.motorsEnabled).toBe(true);
    r.advance(r.profile.serial.watchdogMs + 1);
    expect(r.mcu.isWatchdogTripped).toBe(true);
  });

  it('does not trip before the host was ever heard', () => {
    const r = rig('quadruped12');
    r.advance(500);
    expect(r.mcu.isWatchdogTripped).toBe(false);
  });
});

describe('Mcu e-stop', () => {
  it('category 0 disables at once and latches; only DISABLE is obeyed while latched', () => {
    const r = rig('arm6-gripper');
    r.command(CommandMode.POSITION);
    r.advance(5);
    r.sendMsg(MsgType.ESTOP, { category: 0, source: EstopSource.HOST, reason: 7 });
    expect(r.mcu.isEstopLatched).toBe(true);
    expect(r.mcu.motorsEnabled).toBe(false);
    expect(r.mcu.isStopping).toBe(false);
    r.command(CommandMode.HOLD);
    expect(r.mcu.motorsEnabled).toBe(false);
    r.command(CommandMode.DISABLE);
    expect(r.mcu.counters.commandsObeyed).toBe(2);
    r.advance(2);
    expect(r.lastState().status & (Status.ESTOP_LATCHED | Status.MOTORS_ENABLED)).toBe(Status.ESTOP_LATCHED);
  });

  it('category 1 ramps to zero velocity within the acceleration limit and then removes power; category 2 holds', () => {
    for (const [category, endMode] of [[1, 'disable'], [2, 'hold']] as const) {
      const r = rig('arm6-gripper');
      const rampMs = stopRampUs(r.profile) / 1000;
      const accelMax = r.profile.joints[0]?.limits.accelerationMax ?? 0;
      r.command(CommandMode.VELOCITY, 1.0);
      for (let i = 0; i < 10; i++) { r.advance(20); r.sendMsg(MsgType.HEARTBEAT, { hostState: 2 }); }
      expect(Math.abs(r.plant.truth.qd[0] as number)).toBeGreaterThan(0.5);
      r.sendMsg(MsgType.ESTOP, { category, source: EstopSource.HOST, reason: 0 });
      expect(r.mcu.isStopping).toBe(true);
      expect(r.mcu.motorsEnabled).toBe(true);
      r.advance(2);
      expect(r.lastState().status & Status.STOPPING).toBeTruthy();
      // The joint slows down no faster than its limit allows, and is still ramping before the end.
      let v = r.plant.truth.qd[0] as number;
      for (let t = 2; t < rampMs - 10; t += 10) {
        if (t % 40 === 2) r.sendMsg(MsgType.HEARTBEAT, { hostState: 4 });
        r.advance(10);
        const v1 = r.plant.truth.qd[0] as number;
        expect(Math.abs(v1 - v) / 0.01).toBeLessThanOrEqual(accelMax * 1.05);
        v = v1;
      }
      expect(r.mcu.isStopping).toBe(true);
      r.sendMsg(MsgType.HEARTBEAT, { hostState: 4 });
      r.advance(20);
      expect(r.mcu.isStopping).toBe(false);
      expect(r.plant.mode).toBe(endMode);
      expect(Math.abs(r.plant.truth.qd[0] as number)).toBeLessThan(0.1);
    }
  });

  it('a malformed ESTOP still stops, as category 0, and is reported', () => {
    for (const body of [[0x02, 0, 0], [0x05, 0, 0, 0]]) {
      const r = rig('arm6-gripper');
      const mcu = r.mcu;
      r.command(CommandMode.VELOCITY, 0.5);
      r.advance(10);
      // Build the frame by hand: the encoder refuses to produce a bad ESTOP.
      r.sendRaw(rawFrame(MsgType.ESTOP, Uint8Array.from(body)));
      expect(mcu.isEstopLatched).toBe(true);
      expect(mcu.motorsEnabled).toBe(false);
      expect(mcu.isStopping).toBe(false);
      expect(mcu.counters.bodyErrors['ESTOP']).toBe(1);
      expect(r.of(MsgType.LOG)[0]?.text).toMatch(/malformed ESTOP/);
      expect(r.of(MsgType.ESTOP)).toEqual([{ category: 0, source: EstopSource.HOST, reason: EstopReason.MALFORMED_ESTOP }]);
    }
  });
});

describe('Mcu RESET', () => {
  it('is refused while a fault persists, and never enables motion by itself', () => {
    const r = rig('quadruped12');
    r.command(CommandMode.POSITION);
    r.plant.injectFault({ kind: 'motor', joint: 2 });
    r.advance(2);
    // A new fault latches a stop of source 3 (MCU fault).
    expect(r.of(MsgType.ESTOP).at(-1)).toMatchObject({ category: 1, source: EstopSource.MCU_FAULT });
    expect(r.lastState().faults).not.toBe(0);
    expect(r.lastState().jointFaultMask).toBe(1 << 2);

    r.mcu.faultsClearable = false;
    r.sendMsg(MsgType.RESET, { what: ResetWhat.ESTOP | ResetWhat.FAULTS, token: 0xdeadbeef });
    expect(r.of(MsgType.ACK).at(-1)).toMatchObject({ ackedType: MsgType.RESET, result: AckResult.REFUSED_UNSAFE, detail: 0xdeadbeef });
    expect(r.mcu.isEstopLatched).toBe(true);

    // Without the fault bit, a present fault also refuses.
    r.mcu.faultsClearable = true;
    r.sendMsg(MsgType.RESET, { what: ResetWhat.ESTOP, token: 1 });
    expect(r.of(MsgType.ACK).at(-1)?.result).toBe(AckResult.REFUSED_UNSAFE);

    r.advance(300); // the controlled stop ends: motors off
    r.sendMsg(MsgType.RESET, { what: ResetWhat.ESTOP | ResetWhat.FAULTS | ResetWhat.WATCHDOG, token: 42 });
    expect(r.of(MsgType.ACK).at(-1)).toMatchObject({ ackedType: MsgType.RESET, result: AckResult.OK, detail: 42 });
    expect(r.mcu.isEstopLatched).toBe(false);
    expect(r.plant.faultBits().faults).toBe(0);
    expect(r.mcu.motorsEnabled).toBe(false); // stays in DISABLE until the next COMMAND
    r.command(CommandMode.HOLD);
    expect(r.mcu.motorsEnabled).toBe(true);
  });

  it('a reset after a category 2 stop leaves the robot holding, not moving', () => {
    const r = rig('arm6-gripper');
    r.command(CommandMode.VELOCITY, 0.3);
    r.advance(20);
    r.sendMsg(MsgType.ESTOP, { category: 2, source: EstopSource.HOST, reason: 0 });
    for (let t = 0; t < stopRampUs(r.profile) / 1000 + 20; t += 50) {
      r.sendMsg(MsgType.HEARTBEAT, { hostState: 4 });
      r.advance(50);
    }
    expect(r.mcu.isStopping).toBe(false);
    r.sendMsg(MsgType.RESET, { what: ResetWhat.ESTOP, token: 9 });
    expect(r.of(MsgType.ACK).at(-1)?.result).toBe(AckResult.OK);
    expect(r.plant.mode).toBe('hold');
  });
});

describe('Mcu CONFIG', () => {
  it('ACKs, sets CONFIGURED, and clamps COMMAND targets to its limits', () => {
    const r = rig('quadruped12', { configured: false });
    const n = r.n;
    const cfg = newMessage(MsgType.CONFIG);
    cfg.jointCount = n; cfg.watchdogMs = 200; cfg.stateRateHz = 250;
    r.profile.joints.forEach((j, i) => {
      const c = (j.limits.positionMin + j.limits.positionMax) / 2;
      const a = radToCounts(j, c - 0.1), b = radToCounts(j, c + 0.1); // a > b where the encoder runs backwards
      cfg.posMin[i] = Math.min(a, b); cfg.posMax[i] = Math.max(a, b);
      cfg.velMax[i] = Math.abs(radPerSecToCps(j, 2)); cfg.currentMax[i] = 10;
    });
    r.sendMsg(MsgType.CONFIG, cfg);
    expect(r.of(MsgType.ACK).at(-1)).toMatchObject({ ackedType: MsgType.CONFIG, result: AckResult.OK, detail: 0 });
    expect(r.mcu.isConfigured).toBe(true);
    expect(r.mcu.currentWatchdogMs).toBe(200);
    expect(r.mcu.currentStateRateHz).toBe(250);

    const c = newMessage(MsgType.COMMAND);
    c.jointCount = n; c.mode = CommandMode.POSITION;
    const centre = r.profile.joints.map((j) => (j.limits.positionMin + j.limits.positionMax) / 2);
    // +0.3 rad: beyond the limit, but short of where a single-turn joint's counts wrap (the core
    // clamps in counts, so a target past the wrap would clamp to the other end).
    r.profile.joints.forEach((j, i) => { c.position[i] = radToCounts(j, (centre[i] as number) + 0.3); });
    r.sendMsg(MsgType.COMMAND, c);
    expect(r.mcu.counters.commandsClamped).toBe(1);
    for (let k = 0; k < 10; k++) { r.advance(50); r.sendMsg(MsgType.HEARTBEAT, { hostState: 2 }); }
    for (let i = 0; i < n; i++) expect(r.plant.truth.q[i]).toBeCloseTo((centre[i] as number) + 0.1, 2);

    // Wrong joint count: bad value, nothing changes.
    cfg.jointCount = 3;
    r.sendMsg(MsgType.CONFIG, cfg);
    expect(r.of(MsgType.ACK).at(-1)?.result).toBe(AckResult.BAD_VALUE);
  });

  it('takes the whole sensor range of a single-turn joint as no position clamp (the host sends it for limits across the wrap)', () => {
    const r = rig('quadruped12');
    const n = r.n;
    const cfg = newMessage(MsgType.CONFIG);
    cfg.jointCount = n; cfg.watchdogMs = 200; cfg.stateRateHz = 250;
    const wrapped: number[] = [];
    r.profile.joints.forEach((j, i) => {
      const a = radToCounts(j, j.limits.positionMin), b = radToCounts(j, j.limits.positionMax);
      const [lo, hi] = j.encoder.direction > 0 ? [a, b] : [b, a];
      if (j.encoder.singleTurn && lo > hi) { wrapped.push(i); cfg.posMin[i] = 0; cfg.posMax[i] = j.encoder.countsPerRev - 1; }
      else { cfg.posMin[i] = Math.min(a, b); cfg.posMax[i] = Math.max(a, b); }
      cfg.velMax[i] = Math.abs(radPerSecToCps(j, j.limits.velocityMax)); cfg.currentMax[i] = j.limits.currentMax;
    });
    expect(wrapped.length).toBeGreaterThan(0); // the shipped quadruped has knees whose arcs cross the wrap
    r.sendMsg(MsgType.CONFIG, cfg);
    const c = newMessage(MsgType.COMMAND);
    c.jointCount = n; c.mode = CommandMode.POSITION;
    const target = r.profile.joints.map((j) => j.limits.positionMin + 0.3 * (j.limits.positionMax - j.limits.positionMin));
    r.profile.joints.forEach((j, i) => { c.position[i] = radToCounts(j, target[i] as number); });
    for (let k = 0; k < 20; k++) { r.sendMsg(MsgType.COMMAND, c); r.advance(50); }
    expect(r.mcu.counters.commandsClamped).toBe(0);
    for (const i of wrapped) expect(r.plant.truth.q[i]).toBeCloseTo(target[i] as number, 2);
  });
});

describe('Mcu TIME_SYNC', () => {
  it('answers with the id and the MCU clock of arrival', () => {
    const r = rig('quadruped12');
    r.advance(3);
    r.sendMsg(MsgType.TIME_SYNC_REQ, { id: 77 });
    const resp = r.of(MsgType.TIME_SYNC_RESP)[0];
    expect(resp).toEqual({ id: 77, mcuRxUs: r.mcu.mcuTimeAt(r.now), mcuTxUs: r.mcu.mcuTimeAt(r.now) });
  });
});

describe('Mcu robustness', () => {
  it('counts garbage and wrong-size bodies without stopping', () => {
    const r = rig('quadruped12');
    r.sendRaw(Uint8Array.from([1, 2, 3, 0, 0xff, 0xfe, 0]));
    r.sendRaw(rawFrame(MsgType.HEARTBEAT, Uint8Array.from([1, 2])));
    r.sendRaw(rawFrame(MsgType.STATE, new Uint8Array(12)));
    expect(r.mcu.rxCounters.resyncs).toBe(2);
    expect(r.mcu.counters.bodyErrors['HEARTBEAT']).toBe(1);
    expect(r.mcu.counters.unexpected['STATE']).toBe(1);
    r.command(CommandMode.HOLD);
    expect(r.mcu.motorsEnabled).toBe(true);
  });
});

describe('Mcu as one C program', () => {
  it('takes bytes a host sends from inside send() after the present call, and refuses re-entrant ticks', () => {
    const profile = getProfile('quadruped12');
    const plant = new Plant(profile, { seed: 7 });
    const host = new FrameEncoder();
    const decoder = new FrameDecoder();
    let states = 0;
    let now = 0;
    let tickInside: unknown = null;
    const hold = newMessage(MsgType.COMMAND);
    hold.jointCount = profile.joints.length; hold.mode = CommandMode.HOLD;
    // A host that answers every STATE at once, in the same call stack, with a HOLD COMMAND.
    const mcu: Mcu = new Mcu({
      profile, plant,
      send: (b, n) => decoder.push(b.subarray(0, n), {
        onFrame: (f) => {
          if (f.type !== MsgType.STATE) return;
          states++;
          mcu.handleBytes(host.encode(MsgType.COMMAND, hold, 0), now);
          if (states === 3) { try { mcu.tick(2_000_000); } catch (e) { tickInside = e; } }
        },
      }),
    });
    now = 1_000_000;
    mcu.boot(now);
    for (let i = 1; i <= 20; i++) { now += 1000; mcu.tick(now); }
    expect(states).toBeGreaterThanOrEqual(20);
    expect(decoder.counters.crcErrors + decoder.counters.resyncs).toBe(0);
    expect(mcu.counters.commandsObeyed).toBe(states);
    expect(mcu.motorsEnabled).toBe(true);
    expect(String(tickInside)).toMatch(/tick\(\) called from inside send or a hook/);
  });
});

/** A well-framed packet (valid CRC) around an arbitrary body, for bodies the encoder refuses. */
function rawFrame(type: number, body: Uint8Array): Uint8Array {
  // header(8) body crc(4), COBS-stuffed, 0x00.
  const packet = new Uint8Array(8 + body.length + 4);
  const v = new DataView(packet.buffer);
  packet[0] = 1; packet[1] = type; v.setUint16(2, 0, true); v.setUint32(4, 0, true);
  packet.set(body, 8);
  v.setUint32(8 + body.length, crc32cOf(packet.subarray(0, 8 + body.length)), true);
  const out = new Uint8Array(packet.length + 3);
  const n = cobsEncode(packet, 0, packet.length, out, 0);
  return out.subarray(0, n + 1);
}

function crc32cOf(b: Uint8Array): number {
  return crc32c(b, 0, b.length);
}
