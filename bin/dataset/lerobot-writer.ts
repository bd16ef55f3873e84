/**
 * Writes a LeRobot v3.0 dataset into a directory (the exporter's temporary one): each episode goes
 * to the current data file as it comes (row groups of at most ROW_GROUP_FRAMES frames), a new file
 * starts past `data_files_size_in_mb`, and the episodes table, tasks, stats and info.json are
 * written at the end. Holds in memory one episode's frames (the caller's) and one statistics row
 * per episode.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { aggregateStats, columnStats, STAT_NAMES, type FeatureStats } from './feature-stats.js';
import {
  ACTION_KEY, CHUNKS_SIZE, CODEBASE_VERSION, DATA_FILES_SIZE_IN_MB, DATA_PATH, EPISODES_PATH, INDEX_FEATURES, STATE_KEY, VIDEO_FILES_SIZE_IN_MB, VIDEO_PATH,
  chunkFilePath, imageKey, type DatasetInfo, type Feature,
} from './lerobot-layout.js';
import { ParquetFileWriter, writeParquet, type Column } from './parquet-table.js';
import type { VideoInfo } from './video-encoder.js';

export interface EpisodeInput {
  task: string;
  frames: number;
  /** frames × stateNames.length, row-major. */
  state: Float32Array;
  /** frames × actionNames.length, row-major. */
  action: Float32Array;
  /** Where it came from, kept in `spinal/*` columns of the episodes table. */
  source: { recording: string; recordedIndex: number; outcome: string; note: string };
}

export interface WriterOptions {
  fps: number;
  robotType: string | null;
  stateNames: string[];
  actionNames: string[];
  /** Camera ids whose videos the exporter encodes (into `videos/observation.images.<id>/chunk-000/file-000.mp4`). */
  cameras: string[];
  /** Data file size at which a new file starts (MB); LeRobot's default 100. */
  dataFileMb?: number;
}

interface EpisodeRow {
  index: number;
  task: string;
  length: number;
  chunk: number;
  file: number;
  from: number;
  to: number;
  stats: Record<string, FeatureStats>;
  source: EpisodeInput['source'];
}

/** Frames per parquet row group: bounds the transient memory of encoding one (a few hundred bytes a frame). */
const ROW_GROUP_FRAMES = 16_384;

const FEATURE_KEYS = [STATE_KEY, ACTION_KEY, 'timestamp', 'frame_index', 'episode_index', 'index', 'task_index'];

export class LeRobotWriter {
  private readonly tasks = new Map<string, number>();
  private readonly episodes: EpisodeRow[] = [];
  private dataFile: ParquetFileWriter | null = null;
  private fileBytes = 0;
  private chunk = 0;
  private file = 0;
  private totalFrames = 0;
  readonly stateDim: number;
  readonly actionDim: number;

  constructor(private readonly root: string, private readonly o: WriterOptions) {
    this.stateDim = o.stateNames.length;
    this.actionDim = o.actionNames.length;
  }

  get frameCount(): number {
    return this.totalFrames;
  }

  get episodeCount(): number {
    return this.episodes.length;
  }

  addEpisode(e: EpisodeInput): number {
    if (e.frames <= 0) throw new RangeError('an episode needs at least one frame');
    if (e.state.length !== e.frames * this.stateDim || e.action.length !== e.frames * this.actionDim) throw new RangeError('episode arrays do not match its frame count');
    const index = this.episodes.length;
    let taskIndex = this.tasks.get(e.task);
    if (taskIndex === undefined) {
      taskIndex = this.tasks.size;
      this.tasks.set(e.task, taskIndex);
    }
    const from = this.totalFrames;
    const n = e.frames;
    const seq = (f: (i: number) => number): Float64Array => Float64Array.from({ length: n }, (_, i) => f(i));
    const stats: Record<string, FeatureStats> = {
      [STATE_KEY]: columnStats(e.state, n, this.stateDim),
      [ACTION_KEY]: columnStats(e.action, n, this.actionDim),
      timestamp: columnStats(seq((i) => Math.fround(i / this.o.fps)), n, 1),
      frame_index: columnStats(seq((i) => i), n, 1),
      episode_index: columnStats(seq(() => index), n, 1),
      index: columnStats(seq((i) => from + i), n, 1),
      task_index: columnStats(seq(() => taskIndex), n, 1),
    };
    const row: EpisodeRow = { index, task: e.task, length: n, chunk: this.chunk, file: this.file, from, to: from + n, stats, source: e.source };
    this.episodes.push(row);
    this.writeFrames(row, e, taskIndex);
    this.totalFrames += n;
    this.fileBytes += n * (4 * (this.stateDim + this.actionDim) + 4 + 8 * 4);
    if (this.fileBytes >= (this.o.dataFileMb ?? DATA_FILES_SIZE_IN_MB) * 1024 * 1024) this.closeDataFile();
    return index;
  }

  private writeFrames(ep: EpisodeRow, e: EpisodeInput, taskIndex: number): void {
    if (this.dataFile === null) {
      const path = join(this.root, chunkFilePath(DATA_PATH, this.chunk, this.file));
      mkdirSync(dirname(path), { recursive: true });
      this.dataFile = new ParquetFileWriter(path);
    }
    for (let first = 0; first < e.frames; first += ROW_GROUP_FRAMES) {
      const rows = Math.min(ROW_GROUP_FRAMES, e.frames - first);
      const frame = Float64Array.from({ length: rows }, (_, i) => first + i);
      this.dataFile.write([
        { name: STATE_KEY, kind: 'list<float>', data: e.state.subarray(first * this.stateDim, (first + rows) * this.stateDim), dim: this.stateDim },
        { name: ACTION_KEY, kind: 'list<float>', data: e.action.subarray(first * this.actionDim, (first + rows) * this.actionDim), dim: this.actionDim },
        { name: 'timestamp', kind: 'float', data: frame.map((i) => i / this.o.fps) },
        { name: 'frame_index', kind: 'int64', data: frame },
        { name: 'episode_index', kind: 'int64', data: new Float64Array(rows).fill(ep.index) },
        { name: 'index', kind: 'int64', data: frame.map((i) => ep.from + i) },
        { name: 'task_index', kind: 'int64', data: new Float64Array(rows).fill(taskIndex) },
      ]);
    }
  }

  private closeDataFile(): void {
    if (this.dataFile === null) return;
    this.dataFile.finish();
    this.dataFile = null;
    this.fileBytes = 0;
    this.file++;
    if (this.file === CHUNKS_SIZE) {
      this.file = 0;
      this.chunk++;
    }
  }

  /** Writes the remaining data and the metadata; `videos` has one entry per camera of the options. */
  finish(videos: ReadonlyMap<string, VideoInfo | null>): DatasetInfo {
    if (this.episodes.length === 0) throw new RangeError('a dataset needs at least one episode');
    this.closeDataFile();
    const cameras = this.o.cameras.filter((c) => videos.get(c) != null);
    this.writeEpisodes(cameras);
    this.writeTasks();
    const stats: Record<string, FeatureStats> = {};
    for (const k of FEATURE_KEYS) stats[k] = aggregateStats(this.episodes.map((e) => e.stats[k] as FeatureStats));
    writeJson(join(this.root, 'meta/stats.json'), stats);
    const features: Record<string, Feature> = {
      [STATE_KEY]: { dtype: 'float32', shape: [this.stateDim], names: this.o.stateNames },
      [ACTION_KEY]: { dtype: 'float32', shape: [this.actionDim], names: this.o.actionNames },
    };
    for (const c of cameras) {
      const v = videos.get(c) as VideoInfo;
      features[imageKey(c)] = {
        dtype: 'video',
        shape: [v.height, v.width, 3],
        names: ['height', 'width', 'channels'],
        info: {
          'video.height': v.height, 'video.width': v.width, 'video.codec': v.codec, 'video.pix_fmt': v.pixFmt,
          'video.is_depth_map': false, 'video.fps': this.o.fps, 'video.channels': 3, has_audio: false,
        },
      };
    }
    Object.assign(features, INDEX_FEATURES);
    const info: DatasetInfo = {
      codebase_version: CODEBASE_VERSION,
      robot_type: this.o.robotType,
      total_episodes: this.episodes.length,
      total_frames: this.totalFrames,
      total_tasks: this.tasks.size,
      chunks_size: CHUNKS_SIZE,
      data_files_size_in_mb: this.o.dataFileMb ?? DATA_FILES_SIZE_IN_MB,
      video_files_size_in_mb: VIDEO_FILES_SIZE_IN_MB,
      fps: this.o.fps,
      splits: { train: `0:${this.episodes.length}` },
      data_path: DATA_PATH,
      video_path: cameras.length > 0 ? VIDEO_PATH : null,
      features,
    };
    writeJson(join(this.root, 'meta/info.json'), info);
    return info;
  }

  private writeEpisodes(cameras: string[]): void {
    const eps = this.episodes;
    const cols: Column[] = [
      { name: 'episode_index', kind: 'int64', data: eps.map((e) => e.index) },
      { name: 'tasks', kind: 'list<string>', data: eps.map((e) => [e.task]) },
      { name: 'length', kind: 'int64', data: eps.map((e) => e.length) },
      { name: 'data/chunk_index', kind: 'int64', data: eps.map((e) => e.chunk) },
      { name: 'data/file_index', kind: 'int64', data: eps.map((e) => e.file) },
      { name: 'dataset_from_index', kind: 'int64', data: eps.map((e) => e.from) },
      { name: 'dataset_to_index', kind: 'int64', data: eps.map((e) => e.to) },
    ];
    for (const c of cameras) {
      // One video file per camera: every episode's frames follow each other in it.
      const key = imageKey(c);
      cols.push(
        { name: `videos/${key}/chunk_index`, kind: 'int64', data: eps.map(() => 0) },
        { name: `videos/${key}/file_index`, kind: 'int64', data: eps.map(() => 0) },
        { name: `videos/${key}/from_timestamp`, kind: 'double', data: eps.map((e) => e.from / this.o.fps) },
        { name: `videos/${key}/to_timestamp`, kind: 'double', data: eps.map((e) => e.to / this.o.fps) },
      );
    }
    for (const k of FEATURE_KEYS) {
      for (const s of STAT_NAMES) {
        const data = eps.map((e) => (e.stats[k] as FeatureStats)[s]);
        cols.push(s === 'count' ? { name: `stats/${k}/${s}`, kind: 'list<int64>', data } : { name: `stats/${k}/${s}`, kind: 'list<double>', data });
      }
    }
    cols.push(
      { name: 'meta/episodes/chunk_index', kind: 'int64', data: eps.map(() => 0) },
      { name: 'meta/episodes/file_index', kind: 'int64', data: eps.map(() => 0) },
      { name: 'spinal/recording', kind: 'string', data: eps.map((e) => e.source.recording) },
      { name: 'spinal/recorded_index', kind: 'int64', data: eps.map((e) => e.source.recordedIndex) },
      { name: 'spinal/outcome', kind: 'string', data: eps.map((e) => e.source.outcome) },
      { name: 'spinal/note', kind: 'string', data: eps.map((e) => e.source.note) },
    );
    const path = join(this.root, chunkFilePath(EPISODES_PATH, 0, 0));
    mkdirSync(dirname(path), { recursive: true });
    writeParquet(path, cols);
  }

  private writeTasks(): void {
    const tasks = [...this.tasks.entries()];
    // lerobot reads this table with pandas, indexed by the task string: the pandas metadata says so.
    const pandas = {
      index_columns: ['task'],
      column_indexes: [{ name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } }],
      columns: [
        { name: 'task_index', field_name: 'task_index', pandas_type: 'int64', numpy_type: 'int64', metadata: null },
        { name: 'task', field_name: 'task', pandas_type: 'unicode', numpy_type: 'object', metadata: null },
      ],
      creator: { library: 'spinal', version: '1' },
      pandas_version: '2.2.0',
    };
    const path = join(this.root, 'meta/tasks.parquet');
    mkdirSync(dirname(path), { recursive: true });
    writeParquet(path, [
      { name: 'task_index', kind: 'int64', data: tasks.map(([, i]) => i) },
      { name: 'task', kind: 'string', data: tasks.map(([t]) => t) },
    ], [{ key: 'pandas', value: JSON.stringify(pandas) }]);
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 4)}\n`);
}
