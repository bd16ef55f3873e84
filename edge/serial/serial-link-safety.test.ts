/**
 * What the link tells safety: an MCU restart while READY (a HELLO, or a STATE without CONFIGURED
 * when the HELLO was lost) is reported as 'restarted'; a connection that was READY ends with an
 * ESTOP on the wire before the port closes (link timeout, refusal mid-session); impossible STATE
 * values are counted and passed on.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameEncoder, MsgType, newState, readFrame, newMessage, Status } from '../../proto/wire/index.js';
import { linkHarness } from './testing/link-harness.js';

async function readyHarness(...args: Parameters<typeof linkHarness>) {
  const h = linkHarness(...args);
  h.link.start();
  await h.clock.advanceAsync(5);
  expect(h.link.state).toBe('READY');
  return h;
}

/** Types (and ESTOP bodies) of everything the host wrote on a transport, in order. */
function written(chunks: readonly Uint8Array[]): { type: number; reason?: number }[] {
  const out: { type: number; reason?: number }[] = [];
  const d = new FrameDecoder();
  const e = newMessage(MsgType.ESTOP);
  for (const c of chunks) {
    d.push(c, {
      onFrame: (f) => out.push(f.type === MsgType.ESTOP && readFrame(f, MsgType.ESTOP, e) === null ? { type: f.type, reason: e.reason } : { type: f.type }),
      onFrameError: () => {},
    });
  }
  return out;
}

describe('SerialLink: MCU restarts', () => {
  it('a HELLO while READY is reported as restarted, then the link handshakes again', async () => {
    const h = await readyHarness();
    const restarted: string[] = [];
    h.link.on('restarted', (e) => restarted.push(e.detail));
    h.mcu().send(MsgType.HELLO, h.mcu().hello());
    await h.clock.advanceAsync(5);
    expect(restarted).toHaveLength(1);
    expect(restarted[0]).toMatch(/sent HELLO while the link was READY: it restarted/);
    expect(h.states.slice(-3)).toEqual(['HANDSHAKE', 'CONFIGURING', 'READY']);
    expect(h.link.health().restarts).toBe(1);
    await h.link.stop();
  });

  it('a STATE without CONFIGURED while READY (the restart HELLO was lost) is a restart too', async () => {
    const h = await readyHarness();
    const restarted: string[] = [];
    h.link.on('restarted', (e) => restarted.push(e.detail));
    h.mcu().lastConfig = null; // the MCU forgot its CONFIG
    h.mcu().sendState();
    await h.clock.advanceAsync(5);
    expect(restarted).toEqual([expect.stringMatching(/shows the MCU unconfigured \(status 0x0\): it restarted/)]);
    expect(h.link.state).toBe('READY'); // handshaken again
    await h.link.stop();
  });
});

describe('SerialLink: ESTOP before the port closes', () => {
  it('a link timeout writes ESTOP (reason link lost) before closing', async () => {
    const h = await readyHarness();
    h.mcu().silent = true;
    const t = h.transport();
    const lost: string[] = [];
    h.link.on('lost', (e) => lost.push(e.reason));
    await h.clock.advanceAsync(400);
    expect(lost).toEqual([expect.stringMatching(/no frame from the MCU/)]);
    const frames = written(t.written);
    expect(frames.at(-1)).toEqual({ type: MsgType.ESTOP, reason: 0x17 });
    expect(t.closedDeliberately).toBe(true);
    await h.link.stop();
  });

  it('a refusal mid-session (a restarted MCU with another profile) writes ESTOP, then reports incompatible', async () => {
    const h = await readyHarness();
    const events: string[] = [];
    h.link.on('restarted', () => events.push('restarted'));
    h.link.on('incompatible', (e) => events.push(`incompatible: ${e.message}`));
    const t = h.transport();
    h.mcu().send(MsgType.HELLO, { ...h.mcu().hello(), profileId: 'someone-else' });
    await h.clock.advanceAsync(2);
    expect(events).toEqual(['restarted', expect.stringMatching(/^incompatible: .*someone-else/)]);
    expect(written(t.written).at(-1)).toEqual({ type: MsgType.ESTOP, reason: 0x17 });
    expect(h.link.state).toBe('BACKOFF');
    await h.link.stop();
  });

  it('a frame of another protocol major mid-session (the MCU restarted into other firmware): restart, ESTOP, refusal', async () => {
    const h = await readyHarness();
    const events: string[] = [];
    h.link.on('restarted', () => events.push('restarted'));
    h.link.on('incompatible', (e) => events.push(`incompatible: ${e.message}`));
    const t = h.transport();
    t.farWrite(new FrameEncoder({ version: 2 }).encode(MsgType.HELLO, { ...h.mcu().hello(), protoMajor: 2 }, 0));
    await h.clock.advanceAsync(2);
    expect(events).toEqual(['restarted', expect.stringMatching(/^incompatible: firmware speaks protocol 2\.x/)]);
    expect(written(t.written).at(-1)).toEqual({ type: MsgType.ESTOP, reason: 0x17 });
    await h.link.stop();
  });

    it('a refusal before the first READY writes no ESTOP (nothing was configured or driven)', async () => {
    const h = linkHarness({ mcu: { profileId: 'someone-else' } });
    h.link.start();
    await h.clock.advanceAsync(5);
    expect(h.link.state).toBe('BACKOFF');
    expect(written(h.transports[0]?.written ?? []).some((f) => f.type === MsgType.ESTOP)).toBe(false);
    await h.link.stop();
  });
});

describe('SerialLink: impossible STATE values', () => {
  it('counts a NaN or absurd velocity and a NaN current, names them, and still passes the STATE on', async () => {
    const h = await readyHarness();
    const errors: string[] = [];
    h.link.on('protocol-error', (e) => { if (e.kind === 'impossible-value') errors.push(e.detail); });
    let states = 0;
    h.link.on('state', () => states++);
    const send = (edit: (s: ReturnType<typeof newState>) => void): void => {
      const s = newState();
      s.jointCount = 3;
      s.status = Status.CONFIGURED;
      edit(s);
      h.mcu().send(MsgType.STATE, s);
    };
    send((s) => { s.velocity[0] = Number.NaN; });
    send((s) => { s.velocity[1] = 1e12; });
    send((s) => { s.current[2] = Number.NaN; });
    send(() => {});
    await h.clock.advanceAsync(2);
    expect(states).toBe(4);
    expect(h.link.health().impossibleValues).toBe(3);
    expect(errors[0]).toMatch(/joint 0 velocity NaN counts\/s/);
    expect(errors[1]).toMatch(/joint 1 velocity 9\d{11} counts\/s \(limit \d+/); // 1e12 as an f32
    expect(errors[2]).toMatch(/joint 2 current NaN A/);
    await h.link.stop();
  });
});
