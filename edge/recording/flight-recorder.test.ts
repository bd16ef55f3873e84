import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORDING_SCHEMA_VERSION, Topic, type RecordingMetadata } from '../../proto/recording/channels.js';
import { listRecordings } from './disk-quota.js';
import { FlightRecorder } from './flight-recorder.js';
import { readAllMessages } from './read-recording.js';
import { recordingConfig } from './recording-config.js';

const root = mkdtempSync(join(tmpdir(), 'spinal-flight-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const meta: RecordingMetadata = {
  schemaVersion: RECORDING_SCHEMA_VERSION, robotId: 'r1', profile: 'arm6-gripper', jointNames: ['a'],
  stateRateHz: 1000, controlRateHz: 200, cameraIds: [], edgeVersion: '0.0.0',
};

describe('FlightRecorder', () => {
  it('never queues past queueMessages: what the writer thread cannot take yet is dropped and counted, the rest written in order', async () => {
    const dir = join(root, 'a');
    const rec = await FlightRecorder.start(recordingConfig({ dir, enabled: true, queueMessages: 64 }), meta);
    // One synchronous burst: no acknowledgement can arrive in between, so the bound is all there is.
    for (let i = 0; i < 10_000; i++) rec.publish(Topic.state, 1_000_000_000n + BigInt(i), { seq: i });
    expect(rec.status().dropped).toBe(10_000 - 64);
    await rec.drained();
    // Once the writer has caught up, messages are taken again.
    for (let i = 10_000; i < 10_010; i++) rec.publish(Topic.state, 1_000_000_000n + BigInt(i), { seq: i });
    await rec.close();
    const files = listRecordings(dir);
    expect(files).toHaveLength(1);
    const { messages } = await readAllMessages(join(dir, (files[0] as { name: string }).name));
    expect(messages.map((m) => m.message.seq)).toEqual([...Array.from({ length: 64 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 10_000 + i)]);
    expect(rec.status()).toMatchObject({ recording: true, dropped: 10_000 - 64, files: 1, error: null });
  });

  it('refuses to start, naming the directory, when it cannot be made', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    await expect(FlightRecorder.start(recordingConfig({ dir: join(file, 'sub') }), meta)).rejects.toThrow(/^recording.dir ".*a-file\/sub": .*a-file is not a directory$/);
    await expect(FlightRecorder.start(recordingConfig({ dir: '/proc/spinal-cannot-be-here' }), meta)).rejects.toThrow(/^recording.dir "\/proc\/spinal-cannot-be-here": /);
  });
});
