/**
 * The LeRobot dataset v3.0 layout (lerobot's `CODEBASE_VERSION = "v3.0"`): paths, defaults and the
 * info.json shape. Episodes are packed into shared files: `data/chunk-CCC/file-FFF.parquet` holds
 * whole episodes until it passes `data_files_size_in_mb`, and a chunk directory holds up to
 * `chunks_size` files.
 */
export const CODEBASE_VERSION = 'v3.0';
export const CHUNKS_SIZE = 1000;
export const DATA_FILES_SIZE_IN_MB = 100;
export const VIDEO_FILES_SIZE_IN_MB = 500;
export const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
export const EPISODES_PATH = 'meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';

export function chunkFilePath(template: string, chunk: number, file: number, videoKey?: string): string {
  const pad = (n: number): string => String(n).padStart(3, '0');
  return template.replace('{chunk_index:03d}', pad(chunk)).replace('{file_index:03d}', pad(file)).replace('{video_key}', videoKey ?? '');
}

export interface Feature {
  dtype: 'float32' | 'int64' | 'video';
  shape: number[];
  names: string[] | null;
  info?: Record<string, string | number | boolean>;
}

export interface DatasetInfo {
  codebase_version: string;
  robot_type: string | null;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  chunks_size: number;
  data_files_size_in_mb: number;
  video_files_size_in_mb: number;
  fps: number;
  splits: Record<string, string>;
  data_path: string;
  video_path: string | null;
  features: Record<string, Feature>;
}

/** Index columns every LeRobot frame carries. */
export const INDEX_FEATURES: Record<string, Feature> = {
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
};

export const STATE_KEY = 'observation.state';
export const ACTION_KEY = 'action';
export const imageKey = (camera: string): string => `observation.images.${camera}`;
