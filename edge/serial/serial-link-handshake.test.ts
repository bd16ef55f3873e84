import { describe, expect, it } from 'vitest';
import { MsgType, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../proto/wire/index.js';
import { linkHarness } from './testing/link-harness.js';

describe('SerialLink handshake', () => {
  it('opens, says HELLO, configures and becomes READY', async () => {
    const h = linkHarness();
    const hellos: number[] = [];
    h.link.on('hello', (m) => hellos.push(m.deviceId));
    let ready = 0;
    h.link.on('ready', () => ready++);
    h.link.start();
    await h.clock.advanceAsync(10);
    expect(h.states).toEqual(['OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY']);
    expect(h.link.state).toBe('READY');
    expect(hellos).toEqual([0xc0ffee]);
    expect(ready).toBe(1);
    expect(h.mcu().sentTypes().slice(0, 2)).toEqual([MsgType.HELLO, MsgType.CONFIG]);
    const cfg = h.mcu().lastConfig;
    expect(cfg?.watchdogMs).toBe(100);
    expect(cfg?.stateRateHz).toBe(500);
    expect(cfg?.jointCount).toBe(3);
    expect(h.link.health()).toMatchObject({ handshakes: 1, reconnects: 0, incompatible: 0, state: 'READY' });
    await h.link.stop();
    expect(h.states.at(-1)).toBe('CLOSED');
    expect(h.transport().closedDeliberately).toBe(true);
  });

  it('asks for the configured STATE rate instead of the profile\'s, and refuses one CONFIG cannot carry', async () => {
    const h = linkHarness({ link: { stateRateHz: 250 } });
    h.link.start();
    await h.clock.advanceAsync(10);
    expect(h.mcu().lastConfig?.stateRateHz).toBe(250);
    await h.link.stop();
    expect(() => linkHarness({ link: { stateRateHz: 70_000 } })).toThrow('serial stateRateHz=70000 must be an integer within 1..65535 (a u16 in CONFIG)');
  });

  it('refuses firmware with another protocol major in its HELLO, naming both versions, and retries at the max backoff', async () => {
    const h = linkHarness({ mcu: { protoMajor: 2, protoMinor: 0 } });
    const refusals: string[] = [];
    h.link.on('incompatible', (e) => refusals.push(e.message));
    h.link.start();
    await h.clock.advanceAsync(5);
    expect(h.states).toEqual(['OPENING', 'HANDSHAKE', 'INCOMPATIBLE', 'BACKOFF']);
    expect(refusals).toEqual([`firmware speaks protocol 2.0, this edge speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`]);
    expect(h.transport().closedDeliberately).toBe(true);
    // max 1600 ms, jitter 0.5, random 0.5: 1600 * (1 - 0.25) = 1200 ms
    await h.clock.advanceAsync(1190);
    expect(h.transports).toHaveLength(1);
    await h.clock.advanceAsync(20);
    expect(h.transports).toHaveLength(2);
    expect(h.link.health().incompatible).toBe(2);
    await h.link.stop();
  });

  it('refuses firmware whose frames carry another protocol major (dropped by the decoder)', async () => {
    const h = linkHarness({ mcu: { protoMajor: 2, frameVersion: 2 } });
    const refusals: string[] = [];
    h.link.on('incompatible', (e) => refusals.push(e.message));
    h.link.start();
    await h.clock.advanceAsync(5);
    expect(h.link.state).toBe('BACKOFF');
    expect(refusals[0]).toContain('firmware speaks protocol 2.x');
    expect(refusals[0]).toContain(`this edge speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`);
    expect(h.errors.map((e) => e.kind)).toContain('version');
    await h.link.stop();
  });

  it('refuses a joint count and a profile id that disagree with the profile, naming both values', async () => {
    const h = linkHarness({ mcu: { jointCount: 12, profileId: 'quadruped12' } });
    const refusals: string[] = [];
    h.link.on('incompatible', (e) => refusals.push(e.message));
    h.link.start();
    await h.clock.advanceAsync(5);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('firmware reports 12 joints, profile "test-arm3" has 3');
    expect(refusals[0]).toContain('firmware is built for profile "quadruped12", this edge is configured for "test-arm3"');
    expect(h.link.state).toBe('BACKOFF');
    await h.link.stop();
  });

  it('refuses an MCU that refuses the CONFIG', async () => {
    const h = linkHarness({ mcu: { configResult: 2 } });
    const refusals: string[] = [];
    h.link.on('incompatible', (e) => refusals.push(e.message));
    h.link.start();
    await h.clock.advanceAsync(5);
    expect(h.states).toEqual(['OPENING', 'HANDSHAKE', 'CONFIGURING', 'INCOMPATIBLE', 'BACKOFF']);
    expect(refusals).toEqual(['MCU refused CONFIG: bad value (result 2)']);
    await h.link.stop();
  });

  it('times out a silent MCU and retries with jittered exponential backoff', async () => {
    const draws = [0, 1, 0.5];
    const delays: number[] = [];
    const h = linkHarness({
      onMcu: (m) => { m.answerHello = false; },
      link: { random: () => draws.shift() ?? 0, handshakeTimeoutMs: 500 },
    });
    const lost: string[] = [];
    h.link.on('lost', (e) => lost.push(e.reason));
    let lostAt = 0;
    h.link.on('state-change', (e) => {
      if (e.to === 'BACKOFF') lostAt = h.clock.nowUs();
      if (e.to === 'OPENING' && lostAt > 0) delays.push((h.clock.nowUs() - lostAt) / 1000);
    });
    h.link.start();
    await h.clock.advanceAsync(499);
    expect(h.link.state).toBe('HANDSHAKE');
    await h.clock.advanceAsync(1);
    expect(h.link.state).toBe('BACKOFF');
    expect(lost[0]).toBe('no HELLO from the MCU within 500 ms');
    await h.clock.advanceAsync(3 * 500 + 100 + 200 + 400);
    // base 100, 200, 400 ms; jitter 0.5 with draws 0, 1, 0.5: 100, 100, 300 ms
    expect(delays).toEqual([100, 100, 300]);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    expect(h.states.slice(0, 6)).toEqual(['OPENING', 'HANDSHAKE', 'BACKOFF', 'OPENING', 'HANDSHAKE', 'BACKOFF']);
    expect(h.link.health().handshakeTimeouts).toBe(4); // at 500, 1100, 1700 and 2500 ms
    await h.link.stop();
  });

  it('keeps backoff delays within [base·(1 - jitter), base] and never above max', async () => {
    const { Backoff } = await import('./backoff.js');
    for (const r of [0, 0.3, 0.999]) {
      const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2 }, () => r);
      const got = Array.from({ length: 6 }, () => b.next());
      const bases = [100, 200, 400, 800, 1000, 1000];
      got.forEach((d, i) => {
        const base = bases[i] as number;
        expect(d).toBeGreaterThanOrEqual(base * 0.8);
        expect(d).toBeLessThanOrEqual(base);
      });
    }
  });

  it('backs off when the port cannot be opened, then connects', async () => {
    const h = linkHarness({ failOpen: (i) => i === 0 });
    const lost: { reason: string; disconnected: boolean }[] = [];
    h.link.on('lost', (e) => lost.push(e));
    h.link.start();
    await h.clock.advanceAsync(200);
    expect(lost).toEqual([{ reason: 'cannot open /dev/ttyFAKE0: ENOENT: no such file /dev/ttyFAKE0', disconnected: true }]);
    expect(h.states).toEqual(['OPENING', 'BACKOFF', 'OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY']);
    await h.link.stop();
  });

  it('handshakes again when the MCU restarts (new HELLO while READY)', async () => {
    const h = linkHarness();
    h.link.start();
    await h.clock.advanceAsync(10);
    h.mcu().send(MsgType.HELLO, h.mcu().hello());
    await h.clock.advanceAsync(5);
    expect(h.states).toEqual(['OPENING', 'HANDSHAKE', 'CONFIGURING', 'READY', 'HANDSHAKE', 'CONFIGURING', 'READY']);
    expect(h.link.health().handshakes).toBe(2);
    await h.link.stop();
  });

  it('refuses an illegal transition: start() twice throws', async () => {
    const h = linkHarness();
    h.link.start();
    expect(() => h.link.start()).toThrow(/expected state IDLE, but state is OPENING/);
    await h.link.stop();
    await h.link.stop();
    expect(h.link.state).toBe('CLOSED');
  });
});
