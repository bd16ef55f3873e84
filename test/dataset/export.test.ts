import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDataset, type ExportSummary } from '../../bin/dataset/export-dataset.js';
import { columnStats, quantileOfSorted } from '../../bin/dataset/feature-stats.js';
import type { DatasetInfo } from '../../bin/dataset/lerobot-layout.js';
import { readParquetFile, type Cell, type ReadTable } from './arrow-ffi.js';
import { at } from './checked-index.js';
import { writeSyntheticRecording, type Written } from './synthetic-recording.js';

const FPS = 30;
const dir = mkdtempSync(join(tmpdir(), 'spinal-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The documented resampling, written plainly: interpolated STATE, last COMMAND at or before. */
function expectedFrame(w: Written, tUs: number, n: number): { state: number[]; action: number[] } | null {
  let si = -1;
  for (let i = 0; i < w.states.length; i++) if ((w.states[i] as Written['states'][0]).hostUs <= tUs) si = i;
  let ci = -1;
  for (let i = 0; i < w.commands.length; i++) if ((w.commands[i] as Written['commands'][0]).hostUs <= tUs) ci = i;
  if (si < 0 || ci < 0) return null;
  const a = w.states[si] as Written['states'][0];
  const b = w.states[si + 1];
  const k = b === undefined ? 0 : (tUs - a.hostUs) / (b.hostUs - a.hostUs);
  const lerp = (x: number[], y: number[] | undefined, j: number): number => (y === undefined ? (x[j] as number) : (x[j] as number) + ((y[j] as number) - (x[j] as number)) * k);
  const state = [...Array.from({ length: n }, (_, j) => lerp(a.position, b?.position, j)), ...Array.from({ length: n }, (_, j) => lerp(a.velocity, b?.velocity, j))];
  return { state: state.map(Math.fround), action: (w.commands[ci] as Written['commands'][0]).target.map(Math.fround) };
}

describe('spinal dataset export', () => {
  const joints = 3;
  let written: Written;
  let summary: ExportSummary;
  let info: DatasetInfo;
  let data: ReadTable;
  let episodes: ReadTable;
  const out = join(dir, 'ds');
  const rec = join(dir, 'flight.mcap');

  beforeAll(async () => {
    written = await writeSyntheticRecording(rec, {
      durationS: 6, stateHz: 1000, commandHz: 200, joints, keep: true,
      episodes: [
        { startS: 0.5, endS: 2.0, task: 'pick the cube' },
        { startS: 2.5, endS: 3.9, task: 'place the cube', outcome: 'failure' },
        { startS: 4.1, endS: 5.2, task: 'pick the cube', outcome: 'estop' },
      ],
    });
    summary = await exportDataset({ recordings: [rec], out, fps: FPS });
    info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8')) as DatasetInfo;
    data = readParquetFile(join(out, 'data/chunk-000/file-000.parquet'));
    episodes = readParquetFile(join(out, 'meta/episodes/chunk-000/file-000.parquet'));
  });

  const col = (t: ReadTable, name: string): Cell[] => {
    const c = t.columns.get(name);
    if (c === undefined) throw new Error(`no column ${name}; have ${[...t.columns.keys()].join(', ')}`);
    return c;
  };

  it('writes the v3.0 layout, nothing else, and no temporary directory', () => {
    expect(readdirSync(out).sort()).toEqual(['data', 'meta']);
    expect(readdirSync(join(out, 'meta')).sort()).toEqual(['episodes', 'info.json', 'stats.json', 'tasks.parquet']);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('info.json has the totals, paths and features', () => {
    expect(info.codebase_version).toBe('v3.0');
    expect(info.robot_type).toBe('arm6-gripper');
    expect(info.fps).toBe(FPS);
    expect(info.total_episodes).toBe(3);
    expect(info.total_tasks).toBe(2);
    expect(info.total_frames).toBe(data.numRows);
    expect(info.splits).toEqual({ train: '0:3' });
    expect(info.data_path).toBe('data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet');
    expect(info.video_path).toBeNull();
    expect(info.chunks_size).toBe(1000);
    expect(info.features['observation.state']).toEqual({ dtype: 'float32', shape: [6], names: ['j0.pos', 'j1.pos', 'j2.pos', 'j0.vel', 'j1.vel', 'j2.vel'] });
    expect(info.features.action).toEqual({ dtype: 'float32', shape: [3], names: ['j0.pos', 'j1.pos', 'j2.pos'] });
    for (const k of ['frame_index', 'episode_index', 'index', 'task_index']) expect(info.features[k]).toEqual({ dtype: 'int64', shape: [1], names: null });
    expect(info.features.timestamp).toEqual({ dtype: 'float32', shape: [1], names: null });
  });

  it('data columns have the dtypes and shapes of the features', () => {
    expect(data.formats.get('observation.state')).toBe('+l:f');
    expect(data.formats.get('action')).toBe('+l:f');
    expect(data.formats.get('timestamp')).toBe('f');
    for (const k of ['frame_index', 'episode_index', 'index', 'task_index']) expect(data.formats.get(k)).toBe('l');
    for (const row of col(data, 'observation.state')) expect((row as number[]).length).toBe(6);
    for (const row of col(data, 'action')) expect((row as number[]).length).toBe(3);
  });

  it('episodes cut at the start/end records, with indices continuous and timestamps monotonic', () => {
    const ep = col(data, 'episode_index') as number[];
    const fi = col(data, 'frame_index') as number[];
    const ix = col(data, 'index') as number[];
    const ts = col(data, 'timestamp') as number[];
    expect(ix).toEqual(ix.map((_, i) => i));
    const lengths = col(episodes, 'length') as number[];
    const from = col(episodes, 'dataset_from_index') as number[];
    const to = col(episodes, 'dataset_to_index') as number[];
    expect(col(episodes, 'episode_index')).toEqual([0, 1, 2]);
    for (let e = 0; e < 3; e++) {
      expect(at(to, e) - at(from, e)).toBe(lengths[e]);
            for (let r = at(from, e); r < at(to, e); r++) {
        expect(ep[r]).toBe(e);
        expect(fi[r]).toBe(r - at(from, e));
        expect(ts[r]).toBe(Math.fround((r - at(from, e)) / FPS));
      }
    }
    expect(from.slice(1)).toEqual(to.slice(0, -1));
    expect(to[2]).toBe(data.numRows);
    // 0.5 s → 2.0 s at 30 fps: frames at 0.5 + k/30 up to and including 2.0.
    expect(lengths).toEqual([46, 43, 34]);
  });

  it('every frame equals the recording resampled as documented', () => {
    const starts = written.episodes.filter((e) => e.kind === 'start').map((e) => e.hostUs);
    const from = col(episodes, 'dataset_from_index') as number[];
    const ep = col(data, 'episode_index') as number[];
    const fi = col(data, 'frame_index') as number[];
    const st = col(data, 'observation.state') as number[][];
    const ac = col(data, 'action') as number[][];
    for (let r = 0; r < data.numRows; r++) {
      const t = at(starts, at(ep, r)) + (at(fi, r) * 1e6) / FPS;
      const want = expectedFrame(written, t, joints);
      expect([st[r], ac[r]], `frame ${r}`).toEqual([want?.state, want?.action]);
    }
    expect(from[0]).toBe(0);
  });

  it('tasks table, task indices and the e-stop outcome', () => {
    const tasks = readParquetFile(join(out, 'meta/tasks.parquet'));
    expect(col(tasks, 'task')).toEqual(['pick the cube', 'place the cube']);
    expect(col(tasks, 'task_index')).toEqual([0, 1]);
    expect(col(episodes, 'tasks')).toEqual([['pick the cube'], ['place the cube'], ['pick the cube']]);
    expect(col(episodes, 'spinal/outcome')).toEqual(['success', 'failure', 'estop']);
    const ti = col(data, 'task_index') as number[];
    const ep = col(data, 'episode_index') as number[];
    ti.forEach((t, r) => expect(t).toBe([0, 1, 0][at(ep, r)]));
    expect(summary.episodes.map((e) => e.outcome)).toEqual(['success', 'failure', 'estop']);
  });

  it('per-episode and dataset stats equal stats recomputed from the data read back', () => {
    const stats = JSON.parse(readFileSync(join(out, 'meta/stats.json'), 'utf8')) as Record<string, Record<string, number[]>>;
    const st = (col(data, 'observation.state') as number[][]).flat();
    const all = columnStats(st, data.numRows, 6);
    const ds = stats['observation.state'] ?? {};
    for (const k of ['min', 'max', 'count'] as const) expect(ds[k]).toEqual(all[k]);
    for (const k of ['mean', 'std'] as const) (ds[k] ?? []).forEach((v, d) => expect(v).toBeCloseTo(at(all[k], d), 9));
    const from = col(episodes, 'dataset_from_index') as number[];
    const to = col(episodes, 'dataset_to_index') as number[];
    const ac = col(data, 'action') as number[][];
    for (let e = 0; e < 3; e++) {
      const rows = ac.slice(from[e], to[e]);
      for (let d = 0; d < 3; d++) {
        const v = rows.map((r) => at(r, d)).sort((x, y) => x - y);
        expect((col(episodes, 'stats/action/min')[e] as number[])[d]).toBe(v[0]);
        expect((col(episodes, 'stats/action/max')[e] as number[])[d]).toBe(v[v.length - 1]);
        expect((col(episodes, 'stats/action/q50')[e] as number[])[d]).toBeCloseTo(quantileOfSorted(v, 0.5), 12);
        expect((col(episodes, 'stats/action/mean')[e] as number[])[d]).toBeCloseTo(v.reduce((s, x) => s + x, 0) / v.length, 12);
      }
      expect(col(episodes, 'stats/action/count')[e]).toEqual([rows.length]);
    }
    expect(stats.index?.max).toEqual([data.numRows - 1]);
    expect(Object.keys(stats).sort()).toEqual(['action', 'episode_index', 'frame_index', 'index', 'observation.state', 'task_index', 'timestamp']);
    expect(Object.keys(stats.action ?? {}).sort()).toEqual(['count', 'max', 'mean', 'min', 'q01', 'q10', 'q50', 'q90', 'q99', 'std']);
  });
});

describe('spinal dataset export refuses bad input, naming it, and leaves nothing behind', () => {
  const ep = [{ startS: 0.1, endS: 0.5, task: 't' }];

  /** The refusal's message, after checking that the export left no output and no temporary directory. */
  async function refusal(rec: string, extra: Partial<Parameters<typeof exportDataset>[0]> = {}): Promise<string> {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const message = await exportDataset({ recordings: [rec], out, ...extra }).then(() => 'exported', (e: Error) => e.message);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    return message;
  }

  it('a file that is not an MCAP', async () => {
    const p = join(dir, 'notes.mcap');
    writeFileSync(p, 'hello');
    expect(await refusal(p)).toMatch(/notes\.mcap: not an MCAP file/);
  });

  it('a recording without its metadata record', async () => {
    const p = join(dir, 'nometa.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: ep, fixture: { metadata: false } });
    expect(await refusal(p)).toMatch(/nometa\.mcap: no spinal\.recording metadata record/);
  });

  it('another MCAP profile', async () => {
    const p = join(dir, 'ros.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: ep, fixture: { profile: 'ros2' } });
    expect(await refusal(p)).toMatch(/ros\.mcap: MCAP profile "ros2" is not a Spinal recording/);
  });

  it('an unknown joint count', async () => {
    const p = join(dir, 'nojoints.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: ep, fixture: { metadata: new Map([['schemaVersion', '1'], ['robotId', 'r'], ['profile', 'p'], ['jointNames', '[]'], ['stateRateHz', '100'], ['controlRateHz', '50']]) } });
    expect(await refusal(p)).toMatch(/nojoints\.mcap: metadata spinal\.recording\.jointNames is empty: the joint count is unknown/);
  });

  it('STATE with more joints than the metadata names', async () => {
    const p = join(dir, 'mismatch.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: ep, fixture: { metadata: new Map([['schemaVersion', '1'], ['robotId', 'r'], ['profile', 'p'], ['jointNames', '["a"]'], ['stateRateHz', '100'], ['controlRateHz', '50']]) } });
    expect(await refusal(p)).toMatch(/mismatch\.mcap: \/spinal\/state message at log time \d+ ns seq 0: position has 2 values but the recording's jointNames has 1/);
  });

  it('an empty episode, unless told to skip it', async () => {
    const p = join(dir, 'empty.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: [{ startS: 0, endS: 0.0002, task: 'blink' }, { startS: 0.2, endS: 0.6, task: 'ok' }] });
    expect(await refusal(p)).toMatch(/empty\.mcap: episode 0 \("blink"\) has no frame at 30 fps/);
    const out = join(dir, 'skip');
    const s = await exportDataset({ recordings: [p], out, skipEmpty: true });
    expect(s.info.total_episodes).toBe(1);
    expect(s.skipped).toHaveLength(1);
  });

  it('an existing, non-empty output directory', async () => {
    const p = join(dir, 'ok.mcap');
    await writeSyntheticRecording(p, { durationS: 1, stateHz: 100, commandHz: 50, joints: 2, episodes: ep });
    const out = join(dir, 'taken');
    await exportDataset({ recordings: [p], out });
    await expect(exportDataset({ recordings: [p], out })).rejects.toThrow(/taken: exists and is not empty \(pass --overwrite/);
    const again = await exportDataset({ recordings: [p], out, overwrite: true, fps: 50 });
    expect(again.info.fps).toBe(50);
  });

  it('a fractional fps', async () => {
    expect(await refusal(join(dir, 'ok.mcap'), { fps: 29.97 })).toMatch(/--fps 29\.97: must be an integer/);
  });
});

describe('spinal dataset export data files', () => {
  it('starts a new data file past data_files_size_in_mb, keeping each episode whole in one', async () => {
    const p = join(dir, 'three.mcap');
    await writeSyntheticRecording(p, { durationS: 3, stateHz: 200, commandHz: 50, joints: 2, episodes: [{ startS: 0.1, endS: 0.9, task: 'a' }, { startS: 1.1, endS: 1.9, task: 'b' }, { startS: 2.1, endS: 2.9, task: 'a' }] });
    const out = join(dir, 'rolled');
    const s = await exportDataset({ recordings: [p], out, dataFileMb: 0.0001 });
    const eps = readParquetFile(join(out, 'meta/episodes/chunk-000/file-000.parquet'));
    expect(eps.columns.get('data/file_index')).toEqual([0, 1, 2]);
    expect(s.info.data_files_size_in_mb).toBe(0.0001);
    const lengths = eps.columns.get('length') as number[];
    let index = 0;
    for (let f = 0; f < 3; f++) {
      const t = readParquetFile(join(out, `data/chunk-000/file-00${f}.parquet`));
      expect(t.numRows).toBe(at(lengths, f));
      expect(t.columns.get('episode_index')).toEqual(new Array(t.numRows).fill(f));
      expect(t.columns.get('index')).toEqual(Array.from({ length: t.numRows }, (_, i) => index + i));
      index += t.numRows;
    }
  });
});
