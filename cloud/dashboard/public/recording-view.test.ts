import { describe, expect, it } from 'vitest';
import { EpisodeMarkCommandSchema, parseTopic } from '../../../proto/mqtt/index.js';
import * as cmd from './commands.js';
import { describeEvent } from './fleet-model.js';
import { bytesText, recordingText } from './recording-view.js';

const status = { recording: true, diskBytes: 2_500_000_000, quotaBytes: 10_000_000_000, files: 4, episode: 3, blackBoxSaves: 0, dropped: 0, error: null };

describe('dashboard recording status and episode marks', () => {
  it('shows the recorder\'s state and disk use, and says when there is none or the edge does not say', () => {
    expect(recordingText(status)).toEqual({ status: 'recording, episode 3', disk: '2.5 GB of 10.0 GB (25%), 4 files', state: 'recording' });
    expect(recordingText({ ...status, recording: false, episode: null, blackBoxSaves: 1, dropped: 12 }).status).toBe('black box only, no episode open, 12 dropped, 1 black-box save');
    expect(recordingText({ ...status, error: 'disk full' })).toMatchObject({ status: 'stopped: disk full', state: 'error' });
    expect(recordingText(null)).toEqual({ status: 'off (no flight recorder)', disk: '—', state: 'off' });
    expect(recordingText(undefined).state).toBe('unknown');
    expect(bytesText(999)).toBe('999 B');
    expect(bytesText(123_456_789)).toBe('123 MB');
  });

  it('sends a mark the robot accepts: its schema, under the user\'s own name, never retained', () => {
    const out = cmd.episodeMark({ fleet: 'f', user: 'alice', role: 'operator' }, 'r1', 'intervention', true);
    expect(out).toMatchObject({ topic: 'spinal/v1/f/r1/cmd/episode/alice', retain: false, qos: 1 });
    expect(parseTopic(out.topic)).toMatchObject({ command: 'episode', robot: 'r1', sender: 'alice' });
    expect(EpisodeMarkCommandSchema.parse(JSON.parse(out.payload))).toMatchObject({ operator: 'alice', outcome: 'intervention', end: true });
  });

  it('writes the robot\'s answers into the event log', () => {
    expect(describeEvent({ kind: 'episode-marked', operator: 'alice', outcome: 'failure', end: true })).toEqual({ text: 'episode ended failure by alice', severity: 'info' });
    expect(describeEvent({ kind: 'episode-refused', reason: 'recording is off: this robot has no flight recorder configured' }).text).toMatch(/^episode mark refused: recording is off/);
  });
});
