/**
 * The `recording` section of the edge configuration. Absent: no recorder at all (production
 * default). Present with `enabled: false`: only the black box runs (a ring of the last seconds,
 * saved to its own file on an e-stop or fault). `enabled: true`: every channel is written to
 * rotated MCAP files under `dir`, kept under `quotaBytes`.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

export const RecordingConfigSchema = z.strictObject({
  /** Full recording; the black box runs either way. */
  enabled: z.boolean().default(false),
  /** Directory of the MCAP files (made if missing). Everything `*.mcap` in it counts against the quota. */
  dir: z.string().min(1).default('recordings'),
  /** Chunk compression: zstd (default) or none. */
  compression: z.enum(['zstd', 'none']).default('zstd'),
  /** Uncompressed chunk size: a crash loses at most the chunk being built. */
  chunkBytes: z.number().int().min(4096).max(64 * MiB).default(256 * 1024),
  /** A file is closed and the next one opened at this size… */
  rotateBytes: z.number().int().min(64 * 1024).default(256 * MiB),
  /** …or after this long. */
  rotateSeconds: z.number().min(1).max(86_400).default(600),
  /** All `*.mcap` files in `dir` together stay under this; the oldest are deleted first. */
  quotaBytes: z.number().int().min(128 * 1024).default(4096 * MiB),
  /** Recording stops (and says so) rather than leave the file system with less free space. */
  minFreeBytes: z.number().int().min(0).default(256 * MiB),
  /** Seconds of every channel the black box keeps; saved on an e-stop or fault. 0 turns it off. */
  blackBoxSeconds: z.number().min(0).max(600).default(10),
  /** Messages handed to the writer thread and not yet written; beyond this they are dropped and counted. */
  queueMessages: z.number().int().min(64).max(1_000_000).default(50_000),
  /** Rate of the estimator and link health channels, Hz (STATE and COMMAND are always at full rate). */
  sampleHz: z.number().min(1).max(1000).default(50),
}).refine((r) => r.quotaBytes >= 2 * r.rotateBytes, { message: 'quotaBytes must be at least twice rotateBytes (one file being written, one kept)', path: ['quotaBytes'] });

export type RecordingConfig = z.infer<typeof RecordingConfigSchema>;

/** The defaults, with a directory: what tests and the demo start from. */
export function recordingConfig(over: Partial<RecordingConfig> & { dir: string }): RecordingConfig {
  return RecordingConfigSchema.parse(over);
}
