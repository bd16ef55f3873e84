import { describe, expect, it } from 'vitest';
import { countsToRad, getProfile } from '../../hardware/index.js';
import { AckResult, CommandMode, type AckMsg, type CommandMsg } from '../../proto/wire/index.js';
import { ManualClock } from '../clock.js';
import { CommandGate, type ClampEvent } from './command-gate.js';
import { ClampFlag, CommandLimiter } from './command-limiter.js';
import { SafetySupervisor } from './safety-supervisor.js';

const profile = getProfile('arm6-gripper');
const N = profile.joints.length;
const PERIOD_MS = 2;

class Wire {
  sent: { mode: number; rad: number[] }[] = [];
  estops = 0;
  sendCommand(c: CommandMsg): boolean {
    this.sent.push({ mode: c.mode, rad: profile.joints.map((j, i) => countsToRad(j, c.position[i] as number)) });
    return true;
  }
  sendEstop(): boolean { this.estops++; return true; }
  sendReset(): Promise<AckMsg> { return Promise.resolve({ result: AckResult.OK } as AckMsg); }
}

function rig(): { gate: CommandGate; sup: SafetySupervisor; wire: Wire; clock: ManualClock } {
  const clock = new ManualClock();
  const wire = new Wire();
  const sup = new SafetySupervisor(wire, clock);
  const gate = new CommandGate(profile, wire, sup, clock, PERIOD_MS);
  sup.linkReady();
  sup.mcuStatus(0, 0); // a STATE since the link came up
  sup.planReceived(clock.nowUs() + 10_000_000);
  sup.resume({ id: 'op', role: 'operator' });
  return { gate, sup, wire, clock };
}

const zeros = (): Float64Array => new Float64Array(N);

describe('CommandLimiter', () => {
  it('bounds velocity and acceleration relative to the last sent command, and position by the range', () => {
    const l0 = profile.joints[0]?.limits;
    if (!l0) throw new Error('no joint');
    const lim = new CommandLimiter([l0], 0.01);
    const p = new Float64Array(1), v = new Float64Array(1), f = new Uint8Array(1);
    lim.prime([0]);
    // From rest, a 1 rad jump: acceleration-bound (aMax dt = 0.12 rad/s this tick).
    lim.limit([1], p, v, f);
    expect(v[0]).toBeCloseTo(l0.accelerationMax * 0.01, 12);
    expect(f[0]).toBe(ClampFlag.ACCELERATION);
    // Running at vMax, the velocity bound binds.
    lim.commit([0], [l0.velocityMax]);
    lim.limit([1], p, v, f);
    expect(v[0]).toBe(l0.velocityMax);
    expect(f[0]).toBe(ClampFlag.VELOCITY);
    // Near the upper limit, the position bound wins.
    lim.commit([l0.positionMax - 0.001], [l0.velocityMax]);
    lim.limit([10], p, v, f);
    expect(p[0]).toBe(l0.positionMax);
    expect((f[0] ?? 0) & ClampFlag.POSITION).toBe(ClampFlag.POSITION);
  });
});

describe('CommandGate', () => {
  it('clamps a chunk that violates velocity limits, reports it, and telemetry shows what was sent', () => {
    const { gate, wire } = rig();
    const events: ClampEvent[] = [];
    gate.on('clamped', (e) => events.push(e));
    gate.submit(zeros(), zeros());
    // A target ramp at 10x joint 0's velocity limit.
    const vMax = profile.joints[0]?.limits.velocityMax ?? 0;
    const target = zeros();
    for (let k = 1; k <= 500; k++) {
      target[0] = 10 * vMax * k * PERIOD_MS / 1000;
      gate.submit(target, null);
    }
    expect(events).toHaveLength(1); // one report for the run, not one per tick
    expect((events[0]?.flags[0] ?? 0) & (ClampFlag.ACCELERATION | ClampFlag.VELOCITY)).not.toBe(0);
    let peak = 0;
    for (let k = 1; k < wire.sent.length; k++) {
      const dq = (wire.sent[k]?.rad[0] ?? 0) - (wire.sent[k - 1]?.rad[0] ?? 0);
      peak = Math.max(peak, Math.abs(dq) / (PERIOD_MS / 1000));
    }
    // Counts rounding allows a count's worth of excess.
    expect(peak).toBeLessThanOrEqual(vMax * 1.001 + 1 / (PERIOD_MS / 1000) / 2.6e5);
    expect(gate.lastSent.clampFlags[0]).toBe(ClampFlag.VELOCITY);
    expect(gate.lastSent.velocity[0]).toBe(vMax);
    expect(gate.lastSent.clampedCommands).toBeGreaterThan(400);
    expect(gate.lastSent.position[0]).toBeCloseTo(wire.sent.at(-1)?.rad[0] ?? NaN, 4);
  });

  it('NaN or a wrong dimension never reaches the wire: HOLD and an event, then a controlled stop', () => {
    const { gate, sup, wire } = rig();
    const bad: string[] = [];
    gate.on('bad-numbers', (e) => bad.push(e.detail));
    gate.submit(zeros(), zeros());
    const t = zeros();
    t[3] = Number.NaN;
    expect(gate.submit(t, null)).toBe(true);
    expect(sup.state).toBe('HOLD');
    expect(bad[0]).toMatch(/\[3\]=NaN/);
    expect(wire.sent.every((c) => c.rad.every(Number.isFinite))).toBe(true);
    expect(wire.sent.at(-1)?.rad[3]).toBeCloseTo(0, 4); // holding the last sent position
    const r2 = rig();
    r2.gate.submit(zeros(), zeros());
    r2.gate.submit(new Float64Array(N - 1), null);
    expect(r2.sup.state).toBe('HOLD');
  });

  it('sends nothing in ESTOP and re-seeds from the measured position after a reset', async () => {
    const { gate, sup, wire } = rig();
    gate.submit(zeros(), zeros());
    sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    const before = wire.sent.length;
    expect(gate.submit(zeros(), zeros())).toBe(false);
    expect(wire.sent.length).toBe(before);
    await sup.reset({ id: 'op', role: 'operator' });
    const measured = zeros();
    measured[1] = 0.5;
    gate.submit(zeros(), measured); // IDLE: HOLD mode, the MCU holds the joints where they are
    expect(wire.sent.at(-1)?.mode).toBe(CommandMode.HOLD);
    expect(wire.sent.at(-1)?.rad[1]).toBeCloseTo(0.5, 4);
    sup.planReceived(sup['clock'].nowUs() + 1_000_000);
    sup.resume({ id: 'op', role: 'operator' });
    gate.submit(zeros(), measured); // the first command after the resume starts where the joints are
    expect(wire.sent.at(-1)?.mode).toBe(CommandMode.POSITION);
    expect(Math.abs((wire.sent.at(-1)?.rad[1] ?? NaN) - 0.5)).toBeLessThan(0.01);
  });

  it('after a reset with a joint beyond its limit, IDLE drives nothing; after the resume it only moves back toward the range', async () => {
    const { gate, sup, wire } = rig();
    const max = profile.joints[0]?.limits.positionMax ?? NaN;
    const beyond = zeros();
    beyond[0] = max + 0.2;
    gate.submit(zeros(), zeros());
    sup.remoteEstop({ scope: 'robot', category: 1, malformed: false });
    gate.submit(zeros(), beyond);
    await sup.reset({ id: 'op', role: 'operator' });
    for (let k = 0; k < 20; k++) gate.submit(zeros(), beyond);
    const idle = wire.sent.slice(-20);
    expect(idle.every((c) => c.mode === CommandMode.HOLD)).toBe(true);
    sup.planReceived(sup['clock'].nowUs() + 1_000_000);
    sup.resume({ id: 'op', role: 'operator' });
    const target = zeros();
    target[0] = max + 1; // even a target further out
    gate.submit(target, beyond);
    const first = wire.sent.at(-1)?.rad[0] ?? NaN;
    expect(first).toBeLessThanOrEqual(max + 0.2 + 1e-3); // not further out than where it is
    expect(first).toBeGreaterThan(max + 0.19); // and not pulled to the limit in one step
    for (let k = 0; k < 50; k++) gate.submit(zeros(), null);
    expect(wire.sent.at(-1)?.rad[0] ?? NaN).toBeLessThan(first); // back toward the range
  });

  it('an MCU restart while ACTIVE drops the reference: HOLD mode at once (no ramp from old targets), the first command after resume from the measurement', () => {
    const { gate, sup, wire } = rig();
    const t = zeros();
    gate.submit(zeros(), zeros());
    for (let k = 1; k <= 50; k++) {
      t[0] = 0.02 * k;
      gate.submit(t, null);
    }
    expect(gate.lastSent.velocity[0]).not.toBe(0);
    sup.mcuRestarted('HELLO while READY');
    const measured = zeros();
    measured[0] = 0.3;
    gate.submit(t, measured);
    expect(wire.sent.at(-1)?.mode).toBe(CommandMode.HOLD);
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(false); // no STATE from the new MCU yet
    sup.mcuStatus(0, 0);
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(true);
    t[0] = 1;
    gate.submit(t, measured);
    expect(wire.sent.at(-1)?.mode).toBe(CommandMode.POSITION);
    expect(Math.abs((wire.sent.at(-1)?.rad[0] ?? NaN) - 0.3)).toBeLessThan(0.01);
  });

  it('after a resume the limiter is seeded only from a measurement taken since: a stale one sends nothing', async () => {
    // Found by the model test: [recover, wait(70), pressButton, recover, plan(-5), silence(45),
    // recover(33)]: resumed on a line silent for 38 ms while the joints coasted, the first command
    // started 0.03 rad behind them.
    const { gate, sup, wire, clock } = rig();
    gate.submit(zeros(), zeros(), clock.nowUs());
    sup.remoteEstop({ scope: 'robot', category: 0, malformed: false });
    gate.submit(zeros(), zeros(), clock.nowUs());
    await sup.reset({ id: 'op', role: 'operator' });
    const staleAt = clock.nowUs();
    clock.advance(40);
    sup.planReceived(clock.nowUs() + 1_000_000);
    expect(sup.resume({ id: 'op', role: 'operator' })).toBe(true);
    const before = wire.sent.length;
    const stale = zeros();
    stale[0] = 0.1;
    expect(gate.submit(zeros(), stale, staleAt)).toBe(false);
    expect(wire.sent.length).toBe(before);
    const fresh = zeros();
    fresh[0] = 0.13; // where the coasting joint is now
    clock.advance(1);
    expect(gate.submit(zeros(), fresh, clock.nowUs())).toBe(true);
    expect(Math.abs((wire.sent.at(-1)?.rad[0] ?? NaN) - 0.13)).toBeLessThan(0.01);
  });

  it('a HOLD from ACTIVE (plan expired) is a controlled stop: decelerate within the limits, then HOLD mode', () => {
    const { gate, sup, wire, clock } = rig();
    const t = zeros();
    gate.submit(zeros(), zeros());
    for (let k = 1; k <= 100; k++) {
      t[0] = 0.01 * k;
      gate.submit(t, null);
    }
    clock.advance(10_000);
    expect(sup.state).toBe('HOLD');
    const before = wire.sent.length;
    for (let k = 0; k < 200; k++) gate.submit(t, null);
    const after = wire.sent.slice(before);
    const firstHold = after.findIndex((c) => c.mode === CommandMode.HOLD);
    expect(firstHold).toBeGreaterThan(0); // a ramp first
    expect(after.slice(0, firstHold).every((c) => c.mode === CommandMode.POSITION)).toBe(true);
    expect(after.slice(firstHold).every((c) => c.mode === CommandMode.HOLD)).toBe(true);
  });

  it('a missing action while ACTIVE (chunk exhausted) → HOLD', () => {
    const { gate, sup } = rig();
    gate.submit(zeros(), zeros());
    gate.submit(null, null);
    expect(sup.state).toBe('HOLD');
    expect(sup.holdReason).toBe('chunk-exhausted');
  });
});
