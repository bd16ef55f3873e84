import { describe, expect, it } from 'vitest';
import { EstopCommandSchema, EstopReleaseSchema, ResetCommandSchema, ResumeCommandSchema, parseTopic } from '../../../proto/mqtt/index.js';
import * as cmd from './commands.js';
import { FleetModel, SampleRing, STALE_AFTER_MS } from './fleet-model.js';

const summary = (seq: number, position: number[], extra: Record<string, unknown> = {}): string => JSON.stringify({
  v: 1, robot: 'r1', at: 1_000_000 + seq * 50, seq,
  safety: { state: 'ACTIVE', latched: false },
  sent: { mode: 'position', position: position.map((p) => p + 0.5), velocity: position.map(() => 0), ageMs: 1 },
  measured: { position, velocity: position.map(() => 0) },
  imu: { roll: 0.1, pitch: -0.2, yaw: 0.3, gyro: [0, 0, 0], accel: [0, 0, 9.81] },
  link: { state: 'READY' }, fleetLatch: false, ...extra,
});

describe('dashboard fleet model', () => {
  it('keeps measured, commanded and IMU samples per robot in a bounded ring, oldest first', () => {
    const m = new FleetModel('f', { ringCapacity: 4 });
    for (let i = 0; i < 6; i++) expect(m.handle('spinal/v1/f/r1/state', summary(i, [i, -i]), 0)).toBe(true);
    const r = m.robots.get('r1');
    expect(r?.joints).toBe(2);
    expect(r?.ring?.count).toBe(4);
    // columns: 0..1 measured, 2..3 commanded, 4..6 roll/pitch/yaw
    const [t, j0, c0, roll] = r?.ring?.columns([0, 2, 4]) ?? [];
    expect(t).toEqual([1000.1, 1000.15, 1000.2, 1000.25]);
    expect(j0).toEqual([2, 3, 4, 5]);
    expect(c0).toEqual([2.5, 3.5, 4.5, 5.5]);
    expect(roll?.map((v) => Math.round((v ?? NaN) * 100) / 100)).toEqual([0.1, 0.1, 0.1, 0.1]);
  });

  it('starts a new ring when a robot reports a different joint count, and shows unknown values as gaps', () => {
    const m = new FleetModel('f', { ringCapacity: 8 });
    m.handle('spinal/v1/f/r1/state', summary(1, [1, 2]), 0);
    m.handle('spinal/v1/f/r1/state', summary(2, [1, 2, 3], { imu: null }), 0);
    const r = m.robots.get('r1');
    expect(r?.ring?.count).toBe(1);
    expect(r?.ring?.columns([0, 1, 2, 6])[4]).toEqual([null]);
  });

  it('tracks presence from status, state and silence', () => {
    const m = new FleetModel('f');
    const r = m.robot('r1');
    expect(FleetModel.presence(r, 0)).toBe('unknown');
    m.handle('spinal/v1/f/r1/status', JSON.stringify({ v: 1, robot: 'r1', online: true, at: 1 }), 0);
    expect(FleetModel.presence(r, 0)).toBe('stale');
    m.handle('spinal/v1/f/r1/state', summary(1, [0]), 100);
    expect(FleetModel.presence(r, 100 + STALE_AFTER_MS)).toBe('online');
    expect(FleetModel.presence(r, 101 + STALE_AFTER_MS)).toBe('stale');
    m.handle('spinal/v1/f/r1/status', JSON.stringify({ v: 1, robot: 'r1', online: false, at: 2, reason: 'connection lost' }), 200);
    expect(FleetModel.presence(r, 200)).toBe('unreachable'); // the broker published the robot's will
    m.handle('spinal/v1/f/r1/status', JSON.stringify({ v: 1, robot: 'r1', online: true, at: 3 }), 300);
    m.handle('spinal/v1/f/r1/status', JSON.stringify({ v: 1, robot: 'r1', online: false, at: 4, reason: 'shutdown' }), 400);
    expect(FleetModel.presence(r, 400)).toBe('offline'); // said goodbye
    m.handle('spinal/v1/f/r1/status', JSON.stringify({ v: 1, robot: 'r1', online: false, at: 5 }), 500);
    expect(FleetModel.presence(r, 500)).toBe('unreachable'); // no reason: not known to be deliberate
  });

  it('reads the retained fleet topic the way robots do: anything but a release is a stop', () => {
    const m = new FleetModel('f');
    m.handle('spinal/v1/f/all/cmd/estop', JSON.stringify({ v: 1, kind: 'estop', id: 'a', category: 1, operator: 'olga', at: 5 }), 0);
    expect(m.fleetLatch).toEqual({ latched: true, operator: 'olga', at: 5 });
    m.handle('spinal/v1/f/all/cmd/estop', JSON.stringify({ v: 1, kind: 'release', id: 'b', operator: 'olga', at: 6 }), 0);
    expect(m.fleetLatch.latched).toBe(false);
    m.handle('spinal/v1/f/all/cmd/estop', 'garbage', 0);
    expect(m.fleetLatch.latched).toBe(true);
    expect(m.events.map((e) => `${e.robot}: ${e.text}`)).toEqual([
      'fleet: olga sent STOP ALL (category 1)', 'fleet: olga released the fleet e-stop latch', 'fleet: a malformed message on the fleet e-stop topic: every robot stops',
    ]);
  });

  it('logs events and operators\' commands with a bounded history and the robot\'s last event', () => {
    const m = new FleetModel('f', { eventCapacity: 3 });
    m.handle('spinal/v1/f/r1/event', JSON.stringify({ v: 1, robot: 'r1', wallMs: 1, monoUs: 5, seq: 1, kind: 'transition', from: 'ACTIVE', to: 'ESTOP', cause: 'remote e-stop', source: 'mqtt' }), 0);
    expect(m.events[0]).toMatchObject({ robot: 'r1', severity: 'alarm', text: 'ACTIVE → ESTOP: remote e-stop' });
    m.handle('spinal/v1/f/r1/event', JSON.stringify({ v: 1, robot: 'r1', wallMs: 2, monoUs: 6, seq: 2, kind: 'reset-refused', reason: 'fleet e-stop latch is asserted' }), 0);
    m.handle('spinal/v1/f/r1/cmd/reset/olga', JSON.stringify({ v: 1, kind: 'reset', id: 'x', operator: 'olga', at: 3 }), 0);
    m.handle('spinal/v1/f/r1/cmd/estop', JSON.stringify({ v: 1, kind: 'estop', id: 'y', operator: 'olga', category: 0, at: 4 }), 0);
    expect(m.events.map((e) => e.text)).toEqual(['reset refused: fleet e-stop latch is asserted', 'olga sent reset', 'olga sent estop (category 0)']);
    expect(m.robots.get('r1')?.lastEvent?.text).toBe('reset refused: fleet e-stop latch is asserted');
  });

  it('dates an event by its wall clock (wallMs), never by its monotonic one; an older edge\'s `at` still reads as wall time', () => {
    const m = new FleetModel('f');
    const wallMs = 1_780_000_000_123;
    m.handle('spinal/v1/f/r1/event', JSON.stringify({ v: 1, robot: 'r1', wallMs, monoUs: 1_002_240_000_000, seq: 0, kind: 'mqtt-link-lost', timeoutMs: 500, downForMs: 503, category: 2 }), 0);
    expect(m.events[0]).toMatchObject({ at: wallMs, severity: 'alarm', text: 'broker unreachable for 503 ms (limit 500 ms): remote e-stops could not arrive, stopped with category 2' });
    m.handle('spinal/v1/f/r1/event', JSON.stringify({ v: 1, robot: 'r1', at: wallMs + 1, seq: 1, kind: 'reset-accepted', id: 'x', operator: 'olga' }), 0);
    expect(m.events[1]?.at).toBe(wallMs + 1);
  });

  it('counts and ignores what it does not understand', () => {
    const m = new FleetModel('f');
    expect(m.handle('spinal/v1/other/r1/state', summary(1, [0]), 0)).toBe(false);
    expect(m.handle('spinal/v1/f/r1/state', '{not json', 0)).toBe(false);
    expect(m.handle('spinal/v1/f/r1/state', JSON.stringify({ v: 1 }), 0)).toBe(false);
    expect(m.rejected).toBe(3);
    expect(m.robots.size).toBe(0);
  });

  it('a ring holds exactly its capacity and wraps in place', () => {
    const ring = new SampleRing(3, 1);
    for (let i = 1; i <= 5; i++) ring.push(i, [i * 10]);
    expect(ring.columns([0])).toEqual([[3, 4, 5], [30, 40, 50]]);
  });
});

describe('dashboard commands', () => {
  const who = { fleet: 'f', user: 'olga', role: 'operator' as const };
  it('builds payloads the robots accept, on the topics they subscribe to', () => {
    const all = cmd.estop(who, null);
    expect(all.retain).toBe(true);
    expect(parseTopic(all.topic)).toMatchObject({ kind: 'command', scope: 'fleet', command: 'estop' });
    expect(EstopCommandSchema.parse(JSON.parse(all.payload))).toMatchObject({ category: 1, operator: 'olga' });
    const one = cmd.estop(who, 'r1', 0);
    expect(one.retain).toBe(false);
    expect(parseTopic(one.topic)).toMatchObject({ scope: 'robot', robot: 'r1', command: 'estop' });
    expect(EstopCommandSchema.parse(JSON.parse(one.payload)).category).toBe(0);
    expect(EstopReleaseSchema.parse(JSON.parse(cmd.releaseFleetLatch(who).payload)).operator).toBe('olga');
    const r = cmd.reset(who, 'r1');
    expect(r.retain).toBe(false);
    expect(ResetCommandSchema.parse(JSON.parse(r.payload)).operator).toBe('olga');
    // Under the sender's own name: the only reset topic the broker lets olga write.
    expect(parseTopic(r.topic)).toEqual({ kind: 'command', fleet: 'f', scope: 'robot', robot: 'r1', command: 'reset', sender: 'olga' });
    expect(parseTopic(cmd.resume(who, 'r1').topic)).toMatchObject({ command: 'resume', sender: 'olga' });
    expect(ResumeCommandSchema.parse(JSON.parse(cmd.resume(who, 'r1').payload)).operator).toBe('olga');
    expect(JSON.parse(cmd.reset(who, 'r1').payload).id).not.toBe(JSON.parse(r.payload).id);
  });
});
