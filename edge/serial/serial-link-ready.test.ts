import { describe, expect, it } from 'vitest';
import { CommandMode, EstopSource, MsgType, ResetWhat, StopCategory, cobsEncode, crc32c, newCommand, type AckMsg } from '../../proto/wire/index.js';
import type { StateEvent } from './serial-link-types.js';
import { linkHarness } from './testing/link-harness.js';

async function readyHarness(...args: Parameters<typeof linkHarness>) {
  const h = linkHarness(...args);
  h.link.start();
  await h.clock.advanceAsync(5);
  expect(h.link.state).toBe('READY');
  return h;
}

/** One frame with an arbitrary body: a valid CRC and stuffing around whatever the test wants. */
function rawFrame(type: number, body: number[], seq = 0): Uint8Array {
  const packet = new Uint8Array(8 + body.length + 4);
  const v = new DataView(packet.buffer);
  packet[0] = 1; packet[1] = type; v.setUint16(2, seq, true); v.setUint32(4, 0, true);
  packet.set(body, 8);
  v.setUint32(8 + body.length, crc32c(packet, 0, 8 + body.length), true);
  const out = new Uint8Array(packet.length + 8);
  const n = cobsEncode(packet, 0, packet.length, out, 0);
  out[n] = 0;
  return out.subarray(0, n + 1);
}

describe('SerialLink in READY', () => {
  it('sends HEARTBEAT every heartbeatIntervalMs when no COMMAND went out', async () => {
    const h = await readyHarness();
    const mcu = h.mcu();
    const from = h.clock.nowUs();
    await h.clock.advanceAsync(100);
    const beats = mcu.received.filter((r) => r.type === MsgType.HEARTBEAT && r.atUs > from).map((r) => (r.atUs - from) / 1000);
    // READY was reached at 0 ms with an immediate heartbeat; then every 20 ms.
    expect(beats).toEqual([15, 35, 55, 75, 95]);
    await h.link.stop();
  });

  it('sends no HEARTBEAT while COMMANDs feed the watchdog', async () => {
    const h = await readyHarness();
    const cmd = newCommand();
    cmd.jointCount = 3;
    cmd.mode = CommandMode.HOLD;
    const before = h.mcu().received.filter((r) => r.type === MsgType.HEARTBEAT).length;
    for (let i = 0; i < 10; i++) {
      expect(h.link.sendCommand(cmd)).toBe(true);
      await h.clock.advanceAsync(10);
    }
    expect(h.mcu().received.filter((r) => r.type === MsgType.HEARTBEAT).length).toBe(before);
    expect(h.mcu().lastCommand?.mode).toBe(CommandMode.HOLD);
    await h.clock.advanceAsync(40);
    expect(h.mcu().received.filter((r) => r.type === MsgType.HEARTBEAT).length).toBeGreaterThan(before);
    expect(h.link.health().commandsSent).toBe(10);
    await h.link.stop();
  });

  it('refuses commands before READY and never writes one that cannot be encoded', async () => {
    const h = linkHarness();
    const cmd = newCommand();
    cmd.jointCount = 3;
    expect(h.link.sendCommand(cmd)).toBe(false);
    h.link.start();
    await h.clock.advanceAsync(5);
    const sent = () => h.mcu().sentTypes().filter((t) => t === MsgType.COMMAND).length;
    cmd.velocity[1] = Number.NaN;
    expect(h.link.sendCommand(cmd)).toBe(false);
    cmd.velocity[1] = 0;
    cmd.jointCount = 2;
    expect(h.link.sendCommand(cmd)).toBe(false);
    await h.clock.advanceAsync(1);
    expect(sent()).toBe(0);
    expect(h.link.health().encodeErrors).toBe(2);
    expect(h.errors.map((e) => e.detail)).toEqual([
      'COMMAND.velocity[1]=NaN is not a finite number',
      'COMMAND.jointCount=2, profile "test-arm3" has 3 joints',
    ]);
    cmd.jointCount = 3;
    expect(h.link.sendCommand(cmd)).toBe(true);
    await h.clock.advanceAsync(1);
    expect(sent()).toBe(1);
    await h.link.stop();
  });

  it('drops COMMAND while the transport is backed up, but always sends ESTOP', async () => {
    const h = await readyHarness();
    h.transport().bufferedBytes = 10_000;
    const cmd = newCommand();
    cmd.jointCount = 3;
    expect(h.link.sendCommand(cmd)).toBe(false);
    expect(h.link.sendEstop(StopCategory.CAT1, EstopSource.HOST, 7)).toBe(true);
    await h.clock.advanceAsync(1);
    expect(h.mcu().sentTypes()).toContain(MsgType.ESTOP);
    expect(h.link.health().writesDropped).toBeGreaterThanOrEqual(1);
    await h.link.stop();
  });

  it('sends ESTOP before READY, and a bad category as category 0', async () => {
    const h = linkHarness({ onMcu: (m) => { m.answerHello = false; } });
    expect(h.link.sendEstop(0, 0, 0)).toBe(false); // no port yet
    h.link.start();
    await h.clock.advanceAsync(1);
    expect(h.link.state).toBe('HANDSHAKE');
    expect(h.link.sendEstop(9, EstopSource.HOST, 1)).toBe(true);
    await h.clock.advanceAsync(1);
    expect(h.mcu().sentTypes()).toEqual([MsgType.HELLO, MsgType.ESTOP]);
    expect(h.errors[0]?.detail).toBe('ESTOP.category=9 is outside 0..2; sent as category 0');
    await h.link.stop();
  });

  it('maps STATE times through time sync, across the MCU clock wrap', async () => {
    // MCU clock starts 3 s before its 2^32 wrap and runs 80 ppm fast.
    const h = linkHarness({ mcu: { offsetUs: 2 ** 32 - 3_000_000 - 1_000_000, driftPpm: 80 } });
    const events: { host: number; mcu: number; synced: boolean; at: number; n: number }[] = [];
    h.link.on('state', (e: StateEvent) => events.push({ host: e.hostTimeUs, mcu: e.mcuTimeUs, synced: e.synced, at: h.clock.nowUs(), n: e.msg.jointCount }));
    h.link.start();
    await h.clock.advanceAsync(5);
    h.mcu().sendState();
    await h.clock.advanceAsync(1);
    expect(events[0]?.synced).toBe(false);
    expect(events[0]?.host).toBe(events[0]?.at); // receive time before convergence
    await h.clock.advanceAsync(6000); // past the wrap
    const stats = h.link.health().timeSync;
    expect(stats.converged).toBe(true);
    expect(stats.driftPpm).toBeCloseTo(80, 0);
    h.mcu().sendState();
    await h.clock.advanceAsync(0);
    const e = events.at(-1);
    expect(e?.synced).toBe(true);
    expect(e?.n).toBe(3);
    expect(Math.abs((e?.host ?? 0) - (e?.at ?? 0))).toBeLessThan(3);
    expect(e?.mcu).toBeGreaterThan(2 ** 32); // unwrapped
    expect(h.link.state).toBe('READY');
    await h.link.stop();
  });

  it('counts garbage and bad frames, reports them, and stays READY', async () => {
    const h = await readyHarness();
    const states: number[] = [];
    h.link.on('state', (e) => states.push(e.seq));
    const t = h.transport();
    t.farWrite(Uint8Array.from([0x13, 0x37, 0xff, 0x42, 0x00]));         // garbage
    const good = rawFrame(MsgType.HEARTBEAT, [1, 0, 0, 0], 500);
    const corrupt = Uint8Array.from(good);
    corrupt[3] = (corrupt[3] as number) ^ 0x10;
    t.farWrite(corrupt);                                                  // CRC error
    t.farWrite(rawFrame(0x7e, [1, 2, 3], 501));                            // unknown type
    t.farWrite(rawFrame(MsgType.HEARTBEAT, [1, 0], 502));                  // body error
    t.farWrite(rawFrame(MsgType.COMMAND, [0, 0, 0, 0], 503));              // wrong direction
    h.mcu().sendState(5);                                                 // impossible joint count
    h.mcu().sendState(3);                                                 // fine
    await h.clock.advanceAsync(1);
    const health = h.link.health();
    expect(health.decoder.crcErrors).toBe(1);
    expect(health.decoder.unknownType).toBe(1);
    expect(health.decoder.resyncs).toBeGreaterThanOrEqual(2);
    expect(health.bodyErrors).toBe(1);
    expect(health.unexpectedTypes).toBe(1);
    expect(health.impossibleValues).toBe(1);
    expect(h.errors.map((e) => e.kind).sort()).toEqual(['body', 'cobs', 'crc', 'impossible-value', 'unexpected-type', 'unknown-type'].sort());
    expect(h.errors.find((e) => e.kind === 'impossible-value')?.detail).toMatch(/STATE.jointCount=5 .* has 3 joints/);
    expect(states).toHaveLength(1);
    expect(h.link.state).toBe('READY');
    await h.link.stop();
  });

  it('reports a malformed MCU ESTOP as category 0', async () => {
    const h = await readyHarness();
    const got: number[] = [];
    h.link.on('mcu-estop', (e) => got.push(e.category));
    h.transport().farWrite(rawFrame(MsgType.ESTOP, [7, 1, 0, 0], 900));
    h.mcu().send(MsgType.ESTOP, { category: 1, source: EstopSource.MCU_BUTTON, reason: 3 });
    await h.clock.advanceAsync(1);
    expect(got).toEqual([0, 1]);
    await h.link.stop();
  });

  it('resolves sendReset with the ACK carrying its token, and rejects when none comes', async () => {
    const h = await readyHarness();
    const ack: AckMsg = await (async () => {
      const p = h.link.sendReset(ResetWhat.ESTOP | ResetWhat.WATCHDOG, 0xdeadbeef);
      await h.clock.advanceAsync(1);
      return p;
    })();
    expect(ack).toMatchObject({ ackedType: MsgType.RESET, result: 0, detail: 0xdeadbeef });
    h.mcu().answerReset = false;
    const p = h.link.sendReset(ResetWhat.FAULTS, 5);
    let outcome: unknown = 'pending';
    p.then(() => { outcome = 'resolved'; }, (e: unknown) => { outcome = e; });
    await h.clock.advanceAsync(499);
    expect(outcome).toBe('pending');
    await h.clock.advanceAsync(1);
    expect(String(outcome)).toMatch(/RESET what=0x2 token=5 .* not acknowledged within 500 ms/);
    await expect(h.link.sendReset(0x80, 1)).rejects.toThrow(/RESET.what=128/);
    await h.link.stop();
    await expect(h.link.sendReset(ResetWhat.ESTOP, 1)).rejects.toThrow(/state is CLOSED/);
  });

  it('reconnects after the device vanishes: exact state sequence', async () => {
    const h = await readyHarness();
    const lost: { reason: string; disconnected: boolean }[] = [];
    h.link.on('lost', (e) => lost.push(e));
    h.transport().vanish();
    await h.clock.advanceAsync(1);
    expect(h.link.state).toBe('BACKOFF');
    expect(lost).toEqual([{ reason: 'device disconnected: /dev/ttyFAKE0: device disconnected', disconnected: true }]);
    await h.clock.advanceAsync(100);
    expect(h.states).toEqual(['OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY', 'BACKOFF', 'OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY']);
    expect(h.transports).toHaveLength(2);
    expect(h.link.health()).toMatchObject({ reconnects: 1, handshakes: 2 });
    await h.link.stop();
  });

  it('declares the link lost when no frame arrives for 3 × watchdog', async () => {
    const h = await readyHarness();
    const lost: string[] = [];
    h.link.on('lost', (e) => lost.push(e.reason));
    await h.clock.advanceAsync(1000);
    expect(lost).toEqual([]);
    h.mcu().silent = true;
    await h.clock.advanceAsync(400);
    expect(lost).toHaveLength(1);
    // The timeout, then the silence confirmed after the grace (a quarter of it, at most 50 ms).
    expect(lost[0]).toMatch(/no frame from the MCU for 35\d ms \(link timeout 300 ms\)/);
    expect(h.link.health().linkTimeouts).toBe(1);
    await h.link.stop();
  });
});
