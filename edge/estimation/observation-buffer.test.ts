/** The seqlocked snapshot: consistent copies, refusal during a write, host-time stamps. */
import { describe, expect, test } from 'vitest';
import { getProfile } from '../../hardware/index.js';
import type { StateEvent } from '../serial/serial-link-types.js';
import { Valid } from './estimation-flags.js';
import { ObservationBuffer, observationBytes, Slot } from './observation-buffer.js';
import { newObservation } from './observation.js';
import { StateEstimator } from './state-estimator.js';
import { PlantFeed } from './testing/plant-feed.js';

describe('ObservationBuffer', () => {
  test('read copies the published values into the caller\'s snapshot', () => {
    const b = ObservationBuffer.create(2);
    b.beginWrite();
    b.slots[Slot.SAMPLE_COUNT] = 7;
    b.slots[Slot.HOST_TIME_US] = 123.5;
    b.slots[Slot.SYNCED] = 1;
    b.position.set([0.1, 0.2]);
    b.orientation.set([0, 1, 0, 0]);
    b.endWrite();
    const o = newObservation(2);
    expect(b.read(o)).toBe(true);
    expect(o.sampleCount).toBe(7);
    expect(o.hostTimeUs).toBe(123.5);
    expect(o.synced).toBe(true);
    expect(Array.from(o.position)).toEqual([0.1, 0.2]);
    expect(Array.from(o.orientation)).toEqual([0, 1, 0, 0]);
    expect(b.sequence).toBe(2);
    // The copy is the reader's: later writes do not reach it.
    b.beginWrite(); b.position[0] = 9; b.endWrite();
    expect(o.position[0]).toBe(0.1);
  });

  test('a read overlapping a write is refused, not torn', () => {
    const b = ObservationBuffer.create(1);
    b.beginWrite();
    expect(b.read(newObservation(1), 3)).toBe(false);
    b.endWrite();
    expect(b.read(newObservation(1))).toBe(true);
  });

  test('attach() gives another view of the same memory (a worker\'s side) and checks its size', () => {
    const b = ObservationBuffer.create(3);
    expect(b.shared.byteLength).toBe(observationBytes(3));
    const r = ObservationBuffer.attach(b.shared, 3);
    b.beginWrite(); b.velocity[2] = 4.5; b.endWrite();
    const o = newObservation(3);
    r.read(o);
    expect(o.velocity[2]).toBe(4.5);
    expect(() => ObservationBuffer.attach(b.shared, 4)).toThrow(/expected \d+ for 4 joints/);
    expect(() => b.read(newObservation(2))).toThrow(/snapshot has 2 joints, buffer 3/);
  });
});

describe('StateEstimator stamping', () => {
  test('a SerialLink StateEvent feeds it directly; the snapshot carries its host time and sync state', () => {
    const profile = getProfile('quadruped12');
    const feed = new PlantFeed(profile, { hostOffsetUs: 1_000_000 });
    const est = new StateEstimator(profile);
    const input = feed.step();
    const ev: StateEvent = { msg: input.msg, seq: 1, mcuTimeUs: input.mcuTimeUs, hostTimeUs: input.hostTimeUs, synced: false };
    est.update(ev);
    const o = newObservation(est.jointCount);
    est.read(o);
    expect(o.sampleCount).toBe(1);
    expect(o.mcuTimeUs).toBe(1000);
    expect(o.hostTimeUs).toBe(1_001_000);
    expect(o.synced).toBe(false);
    expect(o.validity & Valid.TIME_SYNCED).toBe(0);
    est.update({ ...feed.step(), synced: true });
    est.read(o);
    expect(o.validity & Valid.TIME_SYNCED).toBe(Valid.TIME_SYNCED);
    expect(o.hostTimeUs).toBe(1_002_000);
  });

  test('a STATE with the wrong joint count is refused, naming both counts', () => {
    const profile = getProfile('quadruped12');
    const feed = new PlantFeed(profile);
    const est = new StateEstimator(profile);
    const input = feed.step();
    input.msg.jointCount = 7;
    expect(() => est.update(input)).toThrow('StateEstimator: STATE has 7 joints, profile quadruped12 has 12');
  });
});
