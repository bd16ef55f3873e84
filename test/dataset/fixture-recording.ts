/**
 * Writes MCAP files shaped as the edge's flight recorder writes them: profile `spinal`, one channel
 * per topic with JSON messages and the JSON Schema of proto/recording/channels.ts, chunks
 * compressed with zstd, the `spinal.recording` metadata record, and a full summary (index).
 * Tests and the export bench use it; options break one rule at a time to test refusals.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { McapWriter } from '@mcap/core';
import { FileHandleWritable } from '@mcap/nodejs';
import * as zstd from '@foxglove/wasm-zstd';
import { CompressedImage } from '@foxglove/schemas/jsonschema.js';
import {
  CAMERA_SCHEMA_NAME, RECORDING_LIBRARY, RECORDING_METADATA_NAME, RECORDING_PROFILE, RECORDING_SCHEMA_VERSION, Topic, cameraTopic, schemaFor,
  type CommandRecord, type EpisodeRecord, type RecordingMetadata, type StateRecord,
} from '../../proto/recording/channels.js';

/** Host µs 0 is this many µs after the Unix epoch in the fixtures' log times. */
export const FIXTURE_EPOCH_US = 1_780_000_000_000_000;

export interface FixtureOptions {
  profile?: string;
  /** false: no metadata record; a map: these raw string values instead of the recorder's. */
  metadata?: false | Map<string, string>;
  chunkSize?: number;
}

export function recordingMetadata(m: Partial<RecordingMetadata> & Pick<RecordingMetadata, 'jointNames'>): RecordingMetadata {
  return {
    schemaVersion: RECORDING_SCHEMA_VERSION, robotId: 'robot-1', profile: 'arm6-gripper', stateRateHz: 1000, controlRateHz: 200, cameraIds: [], edgeVersion: '0.1.0', ...m,
  };
}

function metadataStrings(m: RecordingMetadata): Map<string, string> {
  return new Map([
    ['schemaVersion', String(m.schemaVersion)], ['robotId', m.robotId], ['profile', m.profile], ['jointNames', JSON.stringify(m.jointNames)],
    ['stateRateHz', String(m.stateRateHz)], ['controlRateHz', String(m.controlRateHz)], ['cameraIds', JSON.stringify(m.cameraIds)], ['edgeVersion', m.edgeVersion],
  ]);
}

export class FixtureRecording {
  private readonly channels = new Map<string, number>();
  private readonly seq = new Map<number, number>();
  private readonly enc = new TextEncoder();

  private constructor(private readonly fh: FileHandle, private readonly writer: McapWriter, readonly metadata: RecordingMetadata) {}

  static async create(path: string, metadata: RecordingMetadata, o: FixtureOptions = {}): Promise<FixtureRecording> {
    await zstd.isLoaded;
    const fh = await open(path, 'w');
    const writer = new McapWriter({
      writable: new FileHandleWritable(fh),
      chunkSize: o.chunkSize ?? 1024 * 1024,
      compressChunk: (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }),
    });
    await writer.start({ profile: o.profile ?? RECORDING_PROFILE, library: RECORDING_LIBRARY });
    const rec = new FixtureRecording(fh, writer, metadata);
    if (o.metadata !== false) await writer.addMetadata({ name: RECORDING_METADATA_NAME, metadata: o.metadata ?? metadataStrings(metadata) });
    for (const t of [Topic.state, Topic.command, Topic.episode]) await rec.channel(t);
    for (const c of metadata.cameraIds) await rec.channel(cameraTopic(c));
    return rec;
  }

  private async channel(topic: string): Promise<number> {
    const known = this.channels.get(topic);
    if (known !== undefined) return known;
    const s = topic.startsWith('/spinal/camera/') ? { name: CAMERA_SCHEMA_NAME, schema: CompressedImage } : schemaFor(topic);
    const schemaId = await this.writer.registerSchema({ name: s.name, encoding: 'jsonschema', data: this.enc.encode(JSON.stringify(s.schema)) });
    const id = await this.writer.registerChannel({ topic, schemaId, messageEncoding: 'json', metadata: new Map() });
    this.channels.set(topic, id);
    return id;
  }

  /** Writes any JSON message on `topic` at host time `hostUs` (log time derived from it). */
  async raw(topic: string, hostUs: number, message: unknown): Promise<void> {
    const channelId = await this.channel(topic);
    const sequence = (this.seq.get(channelId) ?? 0) + 1;
    this.seq.set(channelId, sequence);
    const t = BigInt(Math.round((FIXTURE_EPOCH_US + hostUs) * 1000));
    await this.writer.addMessage({ channelId, sequence, logTime: t, publishTime: t, data: this.enc.encode(JSON.stringify(message)) });
  }

  state(r: StateRecord): Promise<void> {
    return this.raw(Topic.state, r.hostUs, r);
  }

  command(r: CommandRecord): Promise<void> {
    return this.raw(Topic.command, r.hostUs, r);
  }

  episode(r: EpisodeRecord): Promise<void> {
    return this.raw(Topic.episode, r.hostUs, r);
  }

  image(cameraId: string, hostUs: number, bytes: Uint8Array, format = 'jpeg'): Promise<void> {
    const us = FIXTURE_EPOCH_US + hostUs;
    return this.raw(cameraTopic(cameraId), hostUs, {
      timestamp: { sec: Math.floor(us / 1e6), nsec: Math.round((us % 1e6) * 1000) }, frame_id: cameraId, format, data: Buffer.from(bytes).toString('base64'),
    });
  }

  async close(): Promise<void> {
    await this.writer.end();
    await this.fh.close();
  }
}
