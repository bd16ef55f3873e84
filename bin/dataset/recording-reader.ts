/**
 * Reads a Spinal flight recording (MCAP, profile `spinal`, JSON messages) back: the
 * `spinal.recording` metadata, and the messages in log-time order, one chunk in memory at a time
 * (an hour at 1 kHz never sits in memory whole).
 *
 * Only indexed files are read (the recorder writes the summary when it closes the file); a file
 * cut short by a crash has none and is refused with the reason.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MCAP_MAGIC, McapIndexedReader, type TypedMcapRecords } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import * as zstd from '@foxglove/wasm-zstd';
import { RECORDING_METADATA_NAME, RECORDING_PROFILE, type RecordingMetadata } from '../../proto/recording/channels.js';
import { decompressHandlers } from '../../edge/recording/recover.js';
import { DatasetError } from './dataset-error.js';


export interface RecordedMessage {
  topic: string;
  logTimeNs: bigint;
  /** The parsed JSON message. */
  message: unknown;
}

export interface OpenRecording {
  path: string;
  metadata: RecordingMetadata;
  /** Topic → message count, from the file's statistics (empty when it has none). */
  messageCounts: Map<string, number>;
  /** Log times of the first and last message (ns since the Unix epoch), when the file has statistics. */
  startNs: bigint | null;
  endNs: bigint | null;
  topics: string[];
  /** Messages in log-time order; `topics` limits them. */
  messages(topics?: readonly string[]): AsyncGenerator<RecordedMessage, void, void>;
  close(): Promise<void>;
}

async function checkMagic(fh: FileHandle, path: string): Promise<void> {
  const head = Buffer.alloc(8);
  const { bytesRead } = await fh.read(head, 0, 8, 0);
  if (bytesRead < 8 || MCAP_MAGIC.some((b, i) => head[i] !== b)) throw new DatasetError(`${path}: not an MCAP file (no MCAP magic at the start)`);
}

function field(meta: ReadonlyMap<string, string>, key: string, path: string): string {
  const v = meta.get(key);
  if (v === undefined) throw new DatasetError(`${path}: metadata record ${RECORDING_METADATA_NAME} has no "${key}"`);
  return v;
}

function jsonField<T>(meta: ReadonlyMap<string, string>, key: string, path: string, check: (v: unknown) => v is T, what: string): T {
  const raw = field(meta, key, path);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new DatasetError(`${path}: metadata ${RECORDING_METADATA_NAME}.${key} is not JSON (${JSON.stringify(raw.slice(0, 80))})`);
  }
  if (!check(v)) throw new DatasetError(`${path}: metadata ${RECORDING_METADATA_NAME}.${key} must be ${what} (got ${raw.slice(0, 80)})`);
  return v;
}

function positiveNumber(meta: ReadonlyMap<string, string>, key: string, path: string): number {
  const raw = field(meta, key, path);
  const n = Number(raw);
  if (!(Number.isFinite(n) && n > 0)) throw new DatasetError(`${path}: metadata ${RECORDING_METADATA_NAME}.${key} must be a positive number (got ${JSON.stringify(raw)})`);
  return n;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Parses the `spinal.recording` metadata record (values are strings; arrays are JSON). */
export function parseRecordingMetadata(meta: ReadonlyMap<string, string>, path: string): RecordingMetadata {
  const jointNames = jsonField(meta, 'jointNames', path, isStringArray, 'a JSON array of joint names');
  if (jointNames.length === 0) throw new DatasetError(`${path}: metadata ${RECORDING_METADATA_NAME}.jointNames is empty: the joint count is unknown`);
  const schemaVersion = Number(field(meta, 'schemaVersion', path));
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) throw new DatasetError(`${path}: metadata ${RECORDING_METADATA_NAME}.schemaVersion must be a positive integer (got ${JSON.stringify(meta.get('schemaVersion'))})`);
  return {
    schemaVersion,
    robotId: field(meta, 'robotId', path),
    profile: field(meta, 'profile', path),
    jointNames,
    stateRateHz: positiveNumber(meta, 'stateRateHz', path),
    controlRateHz: positiveNumber(meta, 'controlRateHz', path),
    cameraIds: meta.has('cameraIds') ? jsonField(meta, 'cameraIds', path, isStringArray, 'a JSON array of camera ids') : [],
    edgeVersion: meta.get('edgeVersion') ?? '',
  };
}

/** Opens a recording; refuses a file that is not MCAP, not a Spinal recording, or lacks its metadata. */
export async function openRecording(path: string): Promise<OpenRecording> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new DatasetError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    await checkMagic(fh, path);
    await zstd.isLoaded;
    let reader: McapIndexedReader;
    try {
      reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(fh), decompressHandlers });
    } catch (e) {
      throw new DatasetError(`${path}: MCAP file without a readable index or summary (was the recording closed? recover it with \`mcap recover\`): ${(e as Error).message}`);
    }
    if (reader.header.profile !== RECORDING_PROFILE) throw new DatasetError(`${path}: MCAP profile ${JSON.stringify(reader.header.profile)} is not a Spinal recording (expected ${JSON.stringify(RECORDING_PROFILE)})`);
    let metaRecord: TypedMcapRecords['Metadata'] | undefined;
    for await (const m of reader.readMetadata({ name: RECORDING_METADATA_NAME })) metaRecord = m;
    if (metaRecord === undefined) throw new DatasetError(`${path}: no ${RECORDING_METADATA_NAME} metadata record (robot, joint names and rates are unknown)`);
    const metadata = parseRecordingMetadata(metaRecord.metadata, path);
    const topicById = new Map<number, string>();
    for (const [id, ch] of reader.channelsById) {
      if (ch.messageEncoding !== 'json') throw new DatasetError(`${path}: channel ${ch.topic} has message encoding ${JSON.stringify(ch.messageEncoding)} (expected "json")`);
      topicById.set(id, ch.topic);
    }
    const messageCounts = new Map<string, number>();
    for (const [id, n] of reader.statistics?.channelMessageCounts ?? []) {
      const topic = topicById.get(id);
      if (topic !== undefined) messageCounts.set(topic, (messageCounts.get(topic) ?? 0) + Number(n));
    }
    const stats = reader.statistics;
    const decoder = new TextDecoder();
    return {
      path,
      metadata,
      messageCounts,
      startNs: stats !== undefined && stats.messageCount > 0n ? stats.messageStartTime : null,
      endNs: stats !== undefined && stats.messageCount > 0n ? stats.messageEndTime : null,
      topics: [...new Set(topicById.values())].sort(),
      async *messages(topics) {
        for await (const m of reader.readMessages(topics !== undefined ? { topics } : {})) {
          const topic = topicById.get(m.channelId) ?? `#${m.channelId}`;
          let message: unknown;
          try {
            message = JSON.parse(decoder.decode(m.data));
          } catch {
            throw new DatasetError(`${path}: ${topic} message at log time ${m.logTime} ns (sequence ${m.sequence}) is not JSON`);
          }
          yield { topic, logTimeNs: m.logTime, message };
        }
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
