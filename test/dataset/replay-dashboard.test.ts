import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { replayIntoDashboard } from '../../bin/dataset/replay-dashboard.js';
import { EmbeddedBroker } from '../../edge/mqtt/broker/embedded-broker.js';
import { robotTopics, StateSummarySchema, type StateSummary } from '../../proto/mqtt/index.js';
import { at } from './checked-index.js';
import { jointPosition, writeSyntheticRecording } from './synthetic-recording.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-dataset-dash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const accounts = { fleet: 'f', robots: [{ id: 'r1', password: 'rp' }], operators: [], viewers: [{ name: 'vic', password: 'vp' }] };
let broker: EmbeddedBroker | null = null;
afterEach(async () => {
  await broker?.close();
  broker = null;
});

describe('spinal dataset replay --into dashboard', () => {
  it('publishes the recording as state summaries a viewer of the fleet receives', async () => {
    const rec = join(dir, 'r.mcap');
    await writeSyntheticRecording(rec, { durationS: 2, stateHz: 200, commandHz: 50, joints: 2, episodes: [{ startS: 0.5, endS: 1.5, task: 'wave' }] });
    broker = await EmbeddedBroker.start({ ...accounts, port: 0 });
    const viewer = await mqtt.connectAsync(broker.url, { username: 'vic', password: 'vp', reconnectPeriod: 0 });
    const got: StateSummary[] = [];
    viewer.on('message', (_t, payload) => got.push(StateSummarySchema.parse(JSON.parse(payload.toString()))));
    await viewer.subscribeAsync(robotTopics('f', 'r1').state);
    const r = await replayIntoDashboard({ recording: rec, brokerUrl: broker.url, fleet: 'f', robot: 'r1', username: 'r1', password: 'rp', rateHz: 10, speed: Infinity });
    expect(r.published).toBe(21); // 0, 0.1, …, 2.0 s of recorded time
    await expect.poll(() => got.length).toBe(21);
    await viewer.endAsync();
    expect(got.map((s) => s.seq)).toEqual(got.map((_, i) => i));
    // Summary k shows the STATE at k × 100 ms (the synthetic STATE falls on those times exactly).
    for (const [k, s] of got.entries()) expect(s.measured?.position).toEqual([jointPosition(0, k / 10), jointPosition(1, k / 10)]);
    expect(got.map((s) => s.task)).toEqual(got.map((_, k) => (k >= 5 && k < 15 ? 'wave' : null)));
    expect(at(got, 0).sent).toBeNull(); // the first COMMAND comes 0.3 ms after the first STATE
    expect(at(got, 1).sent?.mode).toBe('POSITION');
    expect(at(got, 1).safety).toEqual({ state: 'replay', latched: false });
  });

  it('refuses a broker it cannot reach, naming it', async () => {
    const rec = join(dir, 'r2.mcap');
    await writeSyntheticRecording(rec, { durationS: 0.2, stateHz: 100, commandHz: 50, joints: 2, episodes: [] });
    await expect(replayIntoDashboard({ recording: rec, brokerUrl: 'mqtt://127.0.0.1:1', fleet: 'f' })).rejects.toThrow(/mqtt:\/\/127\.0\.0\.1:1: cannot connect to the broker/);
  });
});
