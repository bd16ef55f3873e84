import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDataset } from '../../bin/dataset/export-dataset.js';
import { inspect, inspectRecording } from '../../bin/dataset/inspect.js';
import { replayIntoPlant } from '../../bin/dataset/replay-plant.js';
import { at } from './checked-index.js';
import { writeSyntheticRecording } from './synthetic-recording.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-dataset-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rec = join(dir, 'arm.mcap');

beforeAll(async () => {
  // arm6-gripper has 7 joints; the synthetic sines (±0.5 rad) are inside every limit but the gripper's (0..0.8).
  await writeSyntheticRecording(rec, {
    durationS: 4, stateHz: 500, commandHz: 100, joints: 7,
    episodes: [{ startS: 0.5, endS: 1.5, task: 'wave' }, { startS: 2, endS: 3, task: 'wave', outcome: 'estop' }, { startS: 3.5, task: 'unfinished' }],
  });
});

describe('spinal dataset inspect', () => {
  it('lists episodes, durations, topic counts and rates, joints of a recording', async () => {
    const s = await inspectRecording(rec);
    expect(s.joints).toEqual(['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'j6']);
    expect(s.profile).toBe('arm6-gripper');
    expect(s.durationS).toBeCloseTo(4, 2);
    const counts = Object.fromEntries(s.topics.map((t) => [t.topic, t.messages]));
    expect(counts).toEqual({ '/spinal/state': 2001, '/spinal/command': 400, '/spinal/episode': 5 });
    expect(s.episodes.map((e) => [e.index, e.task, e.outcome, e.durationS])).toEqual([
      [0, 'wave', 'success', 1],
      [1, 'wave', 'estop', 1],
      [2, 'unfinished', 'open (no end record)', null],
    ]);
    expect(s.episodes[0]?.startS).toBeCloseTo(0.5, 6);
  });

  it('summarises an exported dataset directory', async () => {
    const out = join(dir, 'ds');
    await exportDataset({ recordings: [rec], out, fps: 10 });
    const text = await inspect(out);
    expect(text).toContain('LeRobot dataset v3.0, robot arm6-gripper, 10 fps');
    expect(text).toMatch(/3 episodes, \d+ frames/);
    expect(text).toContain('data/chunk-000/file-000.parquet');
  });
});

describe('spinal dataset replay --into plant', () => {
  it('replays the commands into the plant and reports tracking per joint', async () => {
    const r = await replayIntoPlant(rec);
    expect(r.profile).toBe('arm6-gripper');
    expect(r.states).toBe(2000);
    expect(r.commands).toBe(400);
    expect(r.joints.map((j) => j.joint)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'j6']);
    for (const j of r.joints) {
      expect(Number.isFinite(j.rmsRad)).toBe(true);
      expect(j.maxAbsRad).toBeGreaterThanOrEqual(j.rmsRad);
    }
    // The gripper cannot follow the recorded negative angles (its limits are 0..0.8 rad): the
    // replay must show it, as it would show a joint that tracked differently on the robot.
    // The pan joint carries no gravity load: the model follows its commands within a few mrad.
    expect(at(r.joints, 0).rmsRad).toBeLessThan(0.02);
    const gripper = at(r.joints, 6);
    expect(gripper.maxAbsRad).toBeGreaterThan(0.3);
  });

  it('refuses a recording whose profile has another joint count', async () => {
    const p = join(dir, 'three.mcap');
    await writeSyntheticRecording(p, { durationS: 0.5, stateHz: 100, commandHz: 50, joints: 3, episodes: [] });
    await expect(replayIntoPlant(p)).rejects.toThrow(/three\.mcap: profile arm6-gripper has 7 joints but the recording names 3/);
  });
});
