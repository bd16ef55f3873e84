/**
 * Messages between the flight recorder (main thread) and its writer thread. Messages travel in
 * batches as JSON text: the main thread serialises, the writer thread only frames, compresses and
 * writes. A channel is announced once (`channel`) and then named by its index.
 */
import type { RecordingMetadata } from '../../proto/recording/channels.js';
import type { RecordingConfig } from './recording-config.js';

export interface RecorderWorkerData {
  mark: string;
  config: RecordingConfig;
  metadata: RecordingMetadata;
}
export const RECORDER_WORKER_MARK = 'spinal-recorder-worker';

export type ToRecorder =
  | { t: 'channel'; index: number; topic: string }
  | { t: 'batch'; channel: Uint16Array; timeNs: BigInt64Array; data: string[] }
  | { t: 'record'; on: boolean }
  | { t: 'blackbox'; reason: string }
  | { t: 'close' };

export interface WriterStatus {
  recording: boolean;
  diskBytes: number;
  files: number;
  blackBoxSaves: number;
  error: string | null;
}

export type FromRecorder =
  | { t: 'ready' }
  /** `n` messages of batches handed over are done with (written, kept in the ring, or refused). */
  | { t: 'ack'; n: number; status: WriterStatus }
  | { t: 'file'; path: string; bytes: number; messages: number; deleted: string[] }
  | { t: 'blackbox'; path: string | null; bytes: number; messages: number; reason: string; problem: string | null; status: WriterStatus }
  | { t: 'error'; message: string }
  | { t: 'closed'; status: WriterStatus };
