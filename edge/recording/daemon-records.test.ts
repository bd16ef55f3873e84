import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { countsToRad, getProfile, radToCounts } from '../../hardware/index.js';
import { Topic } from '../../proto/recording/channels.js';
import { newState, StateFlag } from '../../proto/wire/index.js';
import type { LastSent } from '../safety/command-gate.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import { epochNsOfHostUs, publishDaemonRecords, stateRecord } from './daemon-records.js';
import { RecordingBus } from './recording-bus.js';

const profile = getProfile('arm6-gripper');
const n = profile.joints.length;

function stateEvent(seq: number): StateEvent {
  const msg = newState();
  msg.jointCount = n;
  profile.joints.forEach((j, i) => { msg.position[i] = radToCounts(j, 0.1 * (i + 1)); msg.current[i] = 0.5; });
  return { msg, seq, mcuTimeUs: 1000 * seq, hostTimeUs: 5_000_000 + 1000 * seq, synced: true };
}

function sources() {
  const bus = new RecordingBus();
  const serial = new EventEmitter<{ state: [StateEvent] }>();
  const supervisor = new EventEmitter<{ transition: [never] }>();
  const sent: LastSent = { count: 0, atUs: Number.NaN, mode: 1, position: new Float64Array(n), velocity: new Float64Array(n), clampFlags: new Uint8Array(n), clampedJoints: 0, clampedCommands: 0 };
  const stop = publishDaemonRecords({ bus, profile, serial, supervisor: supervisor as never, lastSent: () => sent });
  return { bus, serial, sent, stop };
}

describe('daemon records', () => {
  it('turns a STATE frame into a StateRecord in SI units, IMU only when the frame has it', () => {
    const ev = stateEvent(7);
    const r = stateRecord(ev, profile);
    expect(r).toMatchObject({ seq: 7, mcuUs: 7000, hostUs: 5_007_000, status: ev.msg.status });
    expect(r.position).toHaveLength(n);
    r.position.forEach((q, i) => expect(q).toBeCloseTo(countsToRad(profile.joints[i] as never, ev.msg.position[i] as number), 12));
    expect(r.imu).toBeUndefined();
    ev.msg.flags = StateFlag.IMU;
    ev.msg.accel.set([0, 0, 9.8]);
    expect(stateRecord(ev, profile).imu).toEqual({ accel: [0, 0, expect.closeTo(9.8, 5)], gyro: [0, 0, 0] });
  });

  it('publishes nothing while no sink is attached, then STATE per frame and a COMMAND only when a new one went out', () => {
    const s = sources();
    const got: [string, bigint, Record<string, unknown>][] = [];
    s.serial.emit('state', stateEvent(1));
    s.bus.attach({ publish: (t, ns, m) => got.push([t, ns, m as Record<string, unknown>]) });
    s.serial.emit('state', stateEvent(2));
    s.sent.count = 5; s.sent.atUs = 5_001_500; s.sent.position[0] = 0.25;
    s.serial.emit('state', stateEvent(3));
    s.serial.emit('state', stateEvent(4));
    expect(got.map(([t, , m]) => `${t}#${String(m.seq)}`)).toEqual([`${Topic.state}#2`, `${Topic.state}#3`, `${Topic.command}#5`, `${Topic.state}#4`]);
    expect(got[2]?.[2]).toMatchObject({ hostUs: 5_001_500, target: Array.from({ length: n }, (_, i) => (i === 0 ? 0.25 : 0)) });
    expect(got[0]?.[1]).toBe(epochNsOfHostUs(5_002_000));
    s.stop();
    s.serial.emit('state', stateEvent(5));
    expect(got).toHaveLength(4);
  });

  it('builds nothing for a topic no sink wants (the live view with no client subscribed to it)', () => {
    const bus = new RecordingBus();
    const serial = new EventEmitter<{ state: [StateEvent] }>();
    const got: string[] = [];
    bus.attach({ publish: (t) => got.push(t) });
    let wanted = new Set<string>();
    const sent: LastSent = { count: 1, atUs: 1, mode: 1, position: new Float64Array(n), velocity: new Float64Array(n), clampFlags: new Uint8Array(n), clampedJoints: 0, clampedCommands: 0 };
    const stop = publishDaemonRecords({ bus, profile, serial, supervisor: new EventEmitter() as never, lastSent: () => sent, wants: (t) => wanted.has(t) });
    serial.emit('state', stateEvent(1));
    wanted = new Set([Topic.command]);
    serial.emit('state', stateEvent(2));
    expect(got).toEqual([Topic.command]);
    stop();
  });

  it('stamps log times as Unix epoch ns of the host clock: its origin plus the µs, in ns', () => {
    const origin = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n;
    expect(epochNsOfHostUs(0)).toBe(origin);
    expect(epochNsOfHostUs(2_500_000) - origin).toBe(2_500_000_000n);
  });
});
