import { describe, expect, it } from 'vitest';
import { RecordingBus } from './recording-bus.js';
import type { RecordingSink } from '../../proto/recording/channels.js';

function collector(): RecordingSink & { got: string[] } {
  const got: string[] = [];
  return { got, publish: (topic) => { got.push(topic); } };
}

describe('RecordingBus', () => {
  it('hands every message to every attached sink, and none after detaching', () => {
    const bus = new RecordingBus();
    const a = collector();
    const b = collector();
    expect(bus.active).toBe(false);
    const detachA = bus.attach(a);
    bus.attach(b);
    expect(bus.active).toBe(true);
    bus.publish('/x', 1n, {});
    detachA();
    bus.publish('/y', 2n, {});
    expect(a.got).toEqual(['/x']);
    expect(b.got).toEqual(['/x', '/y']);
  });

  it('is not active on account of a sink that says it is idle', () => {
    const bus = new RecordingBus();
    let idle = true;
    const live = collector();
    bus.attach(live, () => idle);
    expect(bus.active).toBe(false);
    idle = false;
    expect(bus.active).toBe(true);
    const recorder = collector();
    idle = true;
    bus.attach(recorder);
    expect(bus.active).toBe(true);
  });

  it('detaches a sink that throws, reports it once, and keeps feeding the others', () => {
    const errors: unknown[] = [];
    const bus = new RecordingBus((err) => errors.push(err));
    const bad: RecordingSink = { publish: () => { throw new Error('disk gone'); } };
    const good = collector();
    bus.attach(bad);
    bus.attach(good);
    expect(() => bus.publish('/a', 1n, {})).not.toThrow();
    bus.publish('/b', 2n, {});
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('disk gone');
    expect(good.got).toEqual(['/a', '/b']);
  });
});
