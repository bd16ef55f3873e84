/**
 * One MCAP file being written: a file descriptor written synchronously (the writer thread has
 * nothing else to do), JSON channels registered on first use, chunks compressed with zstd or
 * stored. Used only on the recorder's worker thread.
 *
 * Crash safety: McapWriter writes a chunk when it passes `chunkBytes`; every chunk is written in
 * one piece and synced to the disk, so a crash or power cut loses at most the chunk being built.
 * The file then lacks its summary and footer; recover.ts turns it into a valid file.
 */
import { McapWriter } from '@mcap/core';
import { McapFileSink } from './mcap-sink.js';
import * as zstd from '@foxglove/wasm-zstd';
import {
  CAMERA_SCHEMA_NAME, RECORDING_LIBRARY, RECORDING_METADATA_NAME, RECORDING_PROFILE, schemaFor, type RecordingMetadata,
} from '../../proto/recording/channels.js';

export type Compression = 'zstd' | 'none';

/** `foxglove.CompressedImage` as JSON: the fields Foxglove reads (data is base64 in JSON). */
const COMPRESSED_IMAGE_SCHEMA = {
  type: 'object',
  properties: {
    timestamp: { type: 'object', properties: { sec: { type: 'integer' }, nsec: { type: 'integer' } } },
    frame_id: { type: 'string' },
    data: { type: 'string', contentEncoding: 'base64' },
    format: { type: 'string' },
  },
};

export function channelSchema(topic: string): { name: string; schema: object } {
  return topic.startsWith('/spinal/camera/') ? { name: CAMERA_SCHEMA_NAME, schema: COMPRESSED_IMAGE_SCHEMA } : schemaFor(topic);
}

/** Waits for the zstd WebAssembly module; call once before compressing. */
export async function compressionReady(c: Compression): Promise<void> {
  if (c === 'zstd') await zstd.isLoaded;
}

const encoder = new TextEncoder();

export interface McapFileOptions {
  path: string;
  compression: Compression;
  chunkBytes: number;
  metadata: RecordingMetadata;
}

export class McapFile {
  readonly path: string;
  readonly openedAtMs = Date.now();
  private readonly out: McapFileSink;
  private readonly writer: McapWriter;
  /** Topic → MCAP channel id. */
  private readonly channels = new Map<string, number>();
  private schemaBytes = 0;
  private seq = 0;
  /** Uncompressed bytes added since the file last grew: an upper bound of the chunk being built. */
  private pendingBytes = 0;
  private lastBytes = 0;
  private chunks = 0;
  messages = 0;

  private constructor(o: McapFileOptions) {
    this.path = o.path;
    this.out = McapFileSink.create(o.path);
    this.writer = new McapWriter({
      writable: this.out,
      chunkSize: o.chunkBytes,
      ...(o.compression === 'zstd' ? { compressChunk: (data: Uint8Array) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }) } : {}),
    });
  }

  static async open(o: McapFileOptions): Promise<McapFile> {
    const f = new McapFile(o);
    await f.writer.start({ profile: RECORDING_PROFILE, library: RECORDING_LIBRARY });
    const m = o.metadata;
    await f.writer.addMetadata({
      name: RECORDING_METADATA_NAME,
      metadata: new Map([
        ['schemaVersion', String(m.schemaVersion)], ['robotId', m.robotId], ['profile', m.profile],
        ['jointNames', JSON.stringify(m.jointNames)], ['stateRateHz', String(m.stateRateHz)],
        ['controlRateHz', String(m.controlRateHz)], ['cameraIds', JSON.stringify(m.cameraIds)], ['edgeVersion', m.edgeVersion],
      ]),
    });
    return f;
  }

  /** Bytes on disk so far. */
  get bytes(): number {
    return this.out.bytes;
  }

  /**
   * An upper bound of the file's size if it were closed after the chunk being built: what is on
   * disk, that chunk uncompressed, and the summary (schemas and channels again, one index entry
   * per chunk and channel).
   */
  get projectedBytes(): number {
    return this.out.bytes + this.pendingBytes + 4096 + 2 * this.schemaBytes + (this.chunks + 1) * (96 + 24 * this.channels.size);
  }

  async add(topic: string, logTimeNs: bigint, json: string): Promise<void> {
    let id = this.channels.get(topic);
    if (id === undefined) {
      const s = channelSchema(topic);
      const schemaData = encoder.encode(JSON.stringify(s.schema));
      const schemaId = await this.writer.registerSchema({ name: s.name, encoding: 'jsonschema', data: schemaData });
      id = await this.writer.registerChannel({ topic, schemaId, messageEncoding: 'json', metadata: new Map() });
      this.channels.set(topic, id);
      this.schemaBytes += schemaData.length + topic.length + s.name.length + 64;
    }
    const data = encoder.encode(json);
    await this.writer.addMessage({ channelId: id, sequence: this.seq++, logTime: logTimeNs, publishTime: logTimeNs, data });
    this.messages++;
    if (this.out.bytes !== this.lastBytes) {
      // A chunk went out: only this message (if any) is still being built.
      this.lastBytes = this.out.bytes;
      this.pendingBytes = 0;
      this.chunks++;
    }
    this.pendingBytes += data.length + 64;
  }

  /** Writes the last chunk, the summary and the footer, and closes the file. */
  async close(): Promise<number> {
    try {
      await this.writer.end();
      this.out.sync();
    } finally {
      this.out.close();
    }
    return this.out.bytes;
  }

  /** Closes the descriptor without a summary (the writer failed): the file is left to recover. */
  abandon(): void {
    this.out.close();
  }
}
