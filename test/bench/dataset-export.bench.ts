/**
 * `spinal dataset export` speed on one robot's hour: a synthetic recording (7 joints, STATE at
 * 1 kHz, COMMAND at 200 Hz, one-minute episodes) exported at 30 and 50 fps. Reports output frames/s,
 * input messages/s, how many times faster than real time, and the peak resident memory during the
 * export (the exporter streams the file: memory must not grow with the recording's length).
 * SPINAL_BENCH_DATASET_S shortens the recording (default 3600 s) for a quick look.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDataset } from '../../bin/dataset/export-dataset.js';
import { writeSyntheticRecording, type SyntheticEpisode } from '../dataset/synthetic-recording.js';
import type { BenchResult, Scenario } from './harness.js';

const DURATION_S = Number(process.env['SPINAL_BENCH_DATASET_S'] ?? '3600');
const JOINTS = 7;

function episodes(durationS: number): SyntheticEpisode[] {
  const out: SyntheticEpisode[] = [];
  for (let s = 1; s + 56 <= durationS; s += 60) out.push({ startS: s, endS: s + 55, task: out.length % 2 === 0 ? 'pick the cube' : 'place the cube' });
  if (out.length === 0) out.push({ startS: 0.5, endS: durationS - 0.5, task: 'pick the cube' });
  return out;
}

function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
  t.unref();
  return { stop: () => { clearInterval(t); return Math.max(peak, process.memoryUsage().rss); } };
}

export const scenario: Scenario = {
  name: 'dataset-export',
  description: 'spinal dataset export: frames/s for one hour of one robot (1 kHz STATE, 200 Hz COMMAND) at 30 and 50 fps',
  async run(): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'spinal-bench-dataset-'));
    try {
      const rec = join(dir, 'hour.mcap');
      const g0 = performance.now();
      const w = await writeSyntheticRecording(rec, { durationS: DURATION_S, stateHz: 1000, commandHz: 200, joints: JOINTS, episodes: episodes(DURATION_S) });
      const genS = (performance.now() - g0) / 1000;
      const mcapMb = statSync(rec).size / 1e6;
      const rows: (string | number)[][] = [];
      const summary: Record<string, number | string | boolean> = { recording_s: DURATION_S, recording_messages: w.messages, recording_mb: mcapMb, generate_s: genS };
      for (const fps of [30, 50]) {
        global.gc?.();
        const rss0 = process.memoryUsage().rss;
        const mem = peakRss();
        const t0 = performance.now();
        const s = await exportDataset({ recordings: [rec], out: join(dir, `ds-${fps}`), fps });
        const seconds = (performance.now() - t0) / 1000;
        const peak = mem.stop();
        const framesPerS = s.info.total_frames / seconds;
        rows.push([`${fps} fps`, s.info.total_episodes, s.info.total_frames, seconds, framesPerS, (s.stateMessages + s.commandMessages) / seconds, DURATION_S / seconds, peak / 1e6, (peak - rss0) / 1e6]);
        summary[`frames_per_s_${fps}fps`] = Math.round(framesPerS);
        summary[`realtime_x_${fps}fps`] = Number((DURATION_S / seconds).toFixed(1));
        summary[`peak_rss_mb_${fps}fps`] = Math.round(peak / 1e6);
        rmSync(join(dir, `ds-${fps}`), { recursive: true, force: true });
      }
      return {
        scenario: 'dataset-export',
        title: `export of a ${DURATION_S} s recording (${JOINTS} joints, 1 kHz STATE, 200 Hz COMMAND, ${mcapMb.toFixed(0)} MB MCAP)`,
        columns: ['fps', 'episodes', 'frames', 'export s', 'frames/s', 'messages/s', 'x real time', 'peak RSS MB', 'RSS growth MB'],
        rows,
        summary,
        notes: ['single-threaded: JSON parsing of the recorded messages dominates; no cameras (video encoding is ffmpeg\'s time)'],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
