/**
 * The tick thread owning motion on the wire, on real threads and a real fd (a file as the line):
 * what reaches the wire is decoded and checked frame by frame. Counts, orders and states only: no
 * wall-clock thresholds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import { AckResult, EstopSource, MsgType, Status, StopCategory, newMessage, type AckMsg } from '../../proto/wire/index.js';
import { systemClock } from '../clock.js';
import { ObservationBuffer, Slot } from '../estimation/observation-buffer.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { FrameKind, FrameWriter, HostState, Writer } from '../serial/shared-wire.js';
import { ControlLoop } from './control-loop.js';
import { FakeDecoder } from './testing/fake-decoder.js';
import { openWireFile, type WireFile, type WireRecord } from './testing/wire-file.js';

const profile = getProfile('arm6-gripper');
const N = profile.joints.length;
const OP = { id: 'op', role: 'operator' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

let loop: ControlLoop | null = null;
let line: WireFile | null = null;
let feed: NodeJS.Timeout | null = null;
afterEach(async () => {
  if (feed) clearInterval(feed);
  await loop?.stop();
  line?.close();
  loop = null; line = null; feed = null;
});

/**
 * A loop whose tick thread writes to a file, a supervisor whose ESTOP and RESET go out from this
 * thread through the same SharedWire (the RESET is acknowledged at once, as an MCU would).
 */
async function start(rateHz: number, mainStallBoundMs?: number) {
  const wf = openWireFile();
  line = wf;
  const main = new FrameWriter(wf.wire, Writer.MAIN, () => systemClock.nowUs());
  const mainHeartbeat = newMessage(MsgType.HEARTBEAT);
  const actuator = {
    sendEstop: (category: number, source: number, reason: number): boolean => main.write(MsgType.ESTOP, { category, source, reason }, FrameKind.STOP) >= 0,
    sendReset: (what: number, token: number): Promise<AckMsg> => {
      const seq = main.write(MsgType.RESET, { what, token }, FrameKind.ESSENTIAL);
      if (seq < 0) return Promise.reject(new Error('RESET not written'));
      wf.wire.release(main.estopsAtLastWrite);
      return Promise.resolve({ ackedType: MsgType.RESET, ackedSeq: seq, result: AckResult.OK, detail: token } as AckMsg);
    },
  };
  const obs = ObservationBuffer.create(N);
  feed = setInterval(() => {
    obs.beginWrite();
    obs.slots[Slot.SAMPLE_COUNT] = (obs.slots[Slot.SAMPLE_COUNT] ?? 0) + 1;
    obs.slots[Slot.HOST_TIME_US] = systemClock.nowUs();
    obs.endWrite();
  }, 2);
  const sup = new SafetySupervisor(actuator, systemClock);
  // A slow sine per joint: every chunk moves the joints, so a COMMAND is always "motion".
  let calls = 0;
  const dec = new FakeDecoder(systemClock, 16, N, 5, (_r, h, j) => 0.2 * Math.sin(0.001 * calls++ + 0.05 * (h + 1) + j));
  const l = new ControlLoop({
    profile, rateHz, decoder: dec, observation: obs, link: { sendCommand: () => { throw new Error('the main thread must not send commands'); } },
    supervisor: sup, latent: () => new Float32Array(N + 1), wire: wf.wire,
    scheduler: { horizon: 16, stepUs: 10_000, policy: 'hard', initialLatencyUs: 20_000 },
    ...(mainStallBoundMs !== undefined ? { mainStallBoundMs } : {}),
  });
  loop = l;
  await l.start();
  sup.linkReady();
  sup.mcuStatus(Status.CONFIGURED, 0); // a STATE since the link came up: resume has a measured start
  const goActive = async (): Promise<void> => {
    sup.planReceived(systemClock.nowUs() + 60_000_000);
    await waitFor('chunks', () => l.stats().requests > 0);
    expect(sup.resume(OP)).toBe(true);
    const sent = l.gate.lastSent.count;
    await waitFor('commands while ACTIVE', () => l.gate.lastSent.count > sent + 20);
  };
  return { wf, main, mainHeartbeat, sup, loop: l, goActive };
}

/** Sequence numbers continue from frame to frame (mod 2^16). */
function gaps(frames: WireRecord[]): number {
  let g = 0;
  for (let i = 1; i < frames.length; i++) if ((((frames[i] as WireRecord).seq - (frames[i - 1] as WireRecord).seq) & 0xffff) !== 1) g++;
  return g;
}

/** COMMAND frames written after an ESTOP and before the next RESET. */
function commandsAfterStop(frames: WireRecord[]): number {
  let stopped = false, bad = 0;
  for (const f of frames) {
    if (f.type === MsgType.ESTOP) stopped = true;
    else if (f.type === MsgType.RESET) stopped = false;
    else if (f.type === MsgType.COMMAND && stopped) bad++;
  }
  return bad;
}

describe('tick thread owns motion on the wire', () => {
  it('interleaving: 10 s of 1 kHz commands from the tick thread with ESTOP, RESET and TIME_SYNC from this thread: whole frames, continuous sequence numbers, no COMMAND after an ESTOP', async () => {
    // No stall supervision here (a loaded test machine must not put the robot in HOLD mid-check).
    const { wf, main, sup, goActive } = await start(1000, 10_000);
    await goActive();
    const sync = newMessage(MsgType.TIME_SYNC_REQ);
    const until = Date.now() + 10_000;
    let cycles = 0, direct = 0;
    const afterDirectStop: string[] = [];
    while (Date.now() < until) {
      // Routine frames from this thread at an irregular pace while the tick thread writes.
      for (let k = 0; k < 20; k++) {
        sync.id = k;
        main.write(MsgType.TIME_SYNC_REQ, sync, FrameKind.ROUTINE);
        await sleep(1 + (k % 3));
      }
      if (cycles % 3 === 2) {
        // A stop that bypasses the supervisor (what SIGTERM's stopOnWire does): the supervisor
        // stays ACTIVE, yet nothing that moves may follow it.
        main.write(MsgType.ESTOP, { category: StopCategory.CAT1, source: EstopSource.HOST, reason: 0 }, FrameKind.STOP);
        direct++;
        await sleep(30);
        afterDirectStop.push(sup.state);
        sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
      } else {
        sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
      }
      await sleep(20);
      expect(sup.state).toBe('ESTOP');
      expect(await sup.reset(OP)).toBe(true);
      await goActive();
      cycles++;
    }
    await loop?.stop();
    const r = wf.read();
    expect(r.crcErrors + r.cobsErrors + r.otherErrors).toBe(0);
    const commands = r.frames.filter((f) => f.type === MsgType.COMMAND).length;
    const estops = r.frames.filter((f) => f.type === MsgType.ESTOP).length;
    expect(commands).toBeGreaterThan(1000);
    expect(estops).toBe(cycles + direct);
    expect(gaps(r.frames)).toBe(0);
    // The direct stops did not go through the supervisor (it was not in ESTOP; on a loaded machine
    // a late tick may have put it in HOLD, which still sends COMMANDs): only the wire's inhibit kept
    // commands off.
    expect(afterDirectStop.filter((state) => state === 'ESTOP')).toEqual([]);
    expect(direct).toBeGreaterThan(0);
    expect(commandsAfterStop(r.frames)).toBe(0);
  }, 60_000);

  it('writes no HEARTBEAT while the link is not READY (the handshake): the first one would arm the MCU watchdog at its boot default', async () => {
    const { wf, sup, loop: l } = await start(500);
    // Latched, the tick thread sends no COMMAND, only HEARTBEATs to feed the watchdog.
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false });
    await waitFor('heartbeats while READY', () => wf.read().frames.filter((f) => f.type === MsgType.HEARTBEAT).length >= 3);
    wf.wire.setReady(false);
    const from = wf.read().frames.length;
    const ticks = l.ticks;
    await waitFor('100 ticks while not READY', () => l.ticks >= ticks + 100);
    expect(wf.read().frames.slice(from).filter((f) => f.type === MsgType.HEARTBEAT)).toEqual([]);
    wf.wire.setReady(true);
    const back = wf.read().frames.length;
    await waitFor('heartbeats again once READY', () => wf.read().frames.slice(back).filter((f) => f.type === MsgType.HEARTBEAT).length >= 3);
  }, 30_000);

  it('HEARTBEAT host_state tells the supervisor\'s state: 4 while in ESTOP', async () => {
    const { wf, sup, goActive } = await start(500);
    await goActive();
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false });
    const estopAt = wf.read().frames.length;
    await waitFor('heartbeats after the ESTOP', () => wf.read().frames.slice(estopAt).filter((f) => f.type === MsgType.HEARTBEAT).length >= 3);
    const after = wf.read().frames.slice(estopAt).filter((f) => f.type === MsgType.HEARTBEAT);
    expect(after.map((f) => f.hostState)).toEqual(after.map(() => HostState.ESTOP));
  }, 30_000);

  it('a blocked main thread: the tick thread holds the robot, keeps feeding the watchdog, and the supervisor holds until resumed', async () => {
    const { wf, sup, loop: l, goActive } = await start(500, 100);
    await goActive();
    const stalls: { stalledMs: number; boundMs: number }[] = [];
    l.on('main-stalled', (e) => stalls.push(e));
    const before = wf.read().frames.length;
    // The stall: this thread busy for 1 s (no event loop turn, no timers, no MQTT).
    const end = performance.now() + 1000;
    while (performance.now() < end) { /* busy */ }
    const during = wf.read().frames.slice(before);
    await waitFor('the stall reported', () => stalls.length > 0);
    expect(stalls[0]?.stalledMs).toBeGreaterThan(stalls[0]?.boundMs as number);
    expect(sup.state).toBe('HOLD');
    expect(sup.holdReason).toBe('control-stalled');
    // Frames kept flowing while this thread was blocked: the MCU's watchdog stays fed.
    const cmds = during.filter((f) => f.type === MsgType.COMMAND);
    expect(cmds.length).toBeGreaterThan(100);
    // A controlled stop: the last commands of the stall all name the same position (held).
    const tail = cmds.slice(-20).map((f) => f.position0);
    expect(new Set(tail).size).toBe(1);
    // Stays stopped: new chunks and a fresh plan do not move it; only a resume does.
    sup.planReceived(systemClock.nowUs() + 60_000_000);
    await sleep(200);
    expect(sup.state).toBe('HOLD');
    const held = wf.read().frames.filter((f) => f.type === MsgType.COMMAND).slice(-20).map((f) => f.position0);
    expect(new Set(held).size).toBe(1);
    expect(sup.resume(OP)).toBe(true);
    await waitFor('moving again', () => new Set(wf.read().frames.filter((f) => f.type === MsgType.COMMAND).slice(-20).map((f) => f.position0)).size > 1);
  }, 30_000);
});
