/**
 * The session against a fake stream whose write side reports a full buffer: the invariants of
 * session.ts without a network in between (the rest of the suite runs over real gRPC).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { BrainMessage, EdgeMessage } from '../../proto/brain/index.js';
import { ManualClock } from '../clock.js';
import { testHello, testObservation } from '../testing/brain-test-client.js';
import { ScriptedBackend } from '../testing/scripted-backend.js';
import { Batcher } from './batcher.js';
import { BrainMetrics } from './brain-metrics.js';
import { BrainSession, type SessionHost, type SessionStream } from './session.js';
import { MemoryTaskStore } from './task-store.js';

class FakeStream extends EventEmitter {
  readonly written: BrainMessage[] = [];
  full = false;
  ended = false;
  write(m: BrainMessage): boolean { this.written.push(m); return !this.full; }
  end(): void { this.ended = true; }
  getAuthContext(): null { return null; }
  send(m: EdgeMessage): void { this.emit('data', m); }
}

function host(backend: ScriptedBackend): SessionHost {
  const metrics = new BrainMetrics();
  return {
    backend, metrics, clock: new ManualClock(), tasks: new MemoryTaskStore('t'), robots: new Set(['r1']), planValidityMs: 500,
    draining: false, batcher: new Batcher(backend, { maxBatch: 8, maxWaitMs: 0, timeoutMs: 1000, maxInFlight: 1 }),
    newSessionId: () => 's1', register: () => null, unregister: () => undefined,
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('session backpressure', () => {
  it('submits nothing while the client does not read, keeps only the newest observation, resumes on drain', async () => {
    const backend = new ScriptedBackend();
    const h = host(backend);
    const stream = new FakeStream();
    new BrainSession(stream as unknown as SessionStream, h, 'plaintext');
    stream.full = true; // the client does not read: already the welcome fills its buffer
    stream.send({ msg: 'hello', hello: testHello('r1') });
    expect(stream.written[0]?.msg).toBe('welcome');
    stream.send({ msg: 'observation', observation: testObservation(1) });
    await tick();
    expect(backend.batches).toHaveLength(0);
    for (let seq = 2; seq <= 50; seq++) stream.send({ msg: 'observation', observation: testObservation(seq) });
    await tick();
    expect(backend.batches).toHaveLength(0);
    expect(stream.written.filter((m) => m.msg === 'plan')).toHaveLength(0);
    expect(await h.metrics.value('spinal_brain_observations_superseded_total')).toBe(49);
    stream.full = false;
    stream.emit('drain');
    await tick();
    const plans = stream.written.filter((m) => m.msg === 'plan');
    expect(plans.map((m) => (m.msg === 'plan' ? m.plan.observationSeq : 0))).toEqual([50]);
  });

  it('drops (and counts) errors while the buffer is full instead of queueing them', async () => {
    const backend = new ScriptedBackend();
    const h = host(backend);
    const stream = new FakeStream();
    new BrainSession(stream as unknown as SessionStream, h, 'plaintext');
    stream.full = true;
    stream.send({ msg: 'hello', hello: testHello('r1') });
    const before = stream.written.length;
    for (let i = 0; i < 20; i++) stream.send({ msg: 'observation', observation: testObservation(1, [NaN, 0, 0]) });
    expect(stream.written.length).toBe(before); // nothing queued
    expect(await h.metrics.value('spinal_brain_errors_dropped_total', { code: 'BAD_OBSERVATION' })).toBe(20);
    expect(await h.metrics.value('spinal_brain_observations_rejected_total')).toBe(20);
  });
});
