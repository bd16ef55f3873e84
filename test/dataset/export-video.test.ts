import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../edge/camera/v4l2-camera.js';
import { exportDataset } from '../../bin/dataset/export-dataset.js';
import type { DatasetInfo } from '../../bin/dataset/lerobot-layout.js';
import { readParquetFile } from './arrow-ffi.js';
import { at } from './checked-index.js';
import { writeSyntheticRecording } from './synthetic-recording.js';

const ffmpeg = findExecutable('ffmpeg');
const ffprobe = findExecutable('ffprobe');
if (ffmpeg === null && process.env.CI) throw new Error('CI must have ffmpeg (see .ci/run)');

const dir = mkdtempSync(join(tmpdir(), 'spinal-dataset-video-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rec = join(dir, 'cams.mcap');

beforeAll(async () => {
  await writeSyntheticRecording(rec, {
    durationS: 3, stateHz: 200, commandHz: 50, joints: 2, cameras: ['wrist', 'top'], cameraHz: 15,
    episodes: [{ startS: 0.2, endS: 1.2, task: 'look' }, { startS: 1.5, endS: 2.7, task: 'look again' }],
  });
});

describe('camera videos', () => {
  it('without ffmpeg: exports the rest and says why there is no video', async () => {
    const lines: string[] = [];
    const s = await exportDataset({ recordings: [rec], out: join(dir, 'novideo'), fps: 10, ffmpeg: null, log: (l) => lines.push(l) });
    expect(s.videoNote).toMatch(/no ffmpeg on PATH: camera videos \(top, wrist\) skipped/);
    expect(lines.join('\n')).toContain('no ffmpeg on PATH');
    expect(Object.values(s.info.features).some((f) => f.dtype === 'video')).toBe(false);
    expect(s.info.video_path).toBeNull();
  });

  it.skipIf(ffmpeg === null)('with ffmpeg: one MP4 per camera, frames resampled to fps, episodes placed in it', async () => {
    const out = join(dir, 'video');
    const s = await exportDataset({ recordings: [rec], out, fps: 10 });
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8')) as DatasetInfo;
    expect(s.videoNote).toBeNull();
    expect(info.video_path).toBe('videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4');
    for (const cam of ['top', 'wrist']) {
      const key = `observation.images.${cam}`;
      expect(info.features[key]).toMatchObject({ dtype: 'video', shape: [12, 16, 3], names: ['height', 'width', 'channels'] });
      expect(info.features[key]?.info).toMatchObject({ 'video.fps': 10, 'video.codec': 'h264', 'video.pix_fmt': 'yuv420p' });
      const mp4 = join(out, `videos/${key}/chunk-000/file-000.mp4`);
      expect(existsSync(mp4)).toBe(true);
      const eps = readParquetFile(join(out, 'meta/episodes/chunk-000/file-000.parquet'));
      const from = eps.columns.get(`videos/${key}/from_timestamp`) as number[];
      const to = eps.columns.get(`videos/${key}/to_timestamp`) as number[];
      const lengths = eps.columns.get('length') as number[];
      expect(from[0]).toBe(0);
      expect(to[0]).toBeCloseTo(at(lengths, 0) / 10, 9);
      expect(from[1]).toBe(to[0]);
      expect(to[1]).toBeCloseTo((at(lengths, 0) + at(lengths, 1)) / 10, 9);
    }
  });

  it.skipIf(ffmpeg === null || ffprobe === null)('each MP4 holds exactly one frame per dataset frame', async () => {
    const out = join(dir, 'video-count');
    const s = await exportDataset({ recordings: [rec], out, fps: 10 });
    for (const cam of ['top', 'wrist']) {
      const mp4 = join(out, `videos/observation.images.${cam}/chunk-000/file-000.mp4`);
      const frames = execFileSync(ffprobe as string, ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', mp4]).toString().trim();
      expect(Number(frames)).toBe(s.info.total_frames);
    }
  });
});
