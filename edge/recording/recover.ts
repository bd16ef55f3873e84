/**
 * Salvage of a recording cut short (crash, power cut, full disk): reads a possibly truncated MCAP
 * from the start, keeps every record up to the last complete, CRC-valid chunk (a torn chunk or
 * record at the end is left out), and writes them to a new, valid and indexed MCAP file.
 */
import { readFileSync } from 'node:fs';
import { McapStreamReader, McapWriter, type McapTypes } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { McapFileSink } from './mcap-sink.js';

export interface RecoverResult {
  /** The input was already a complete MCAP (its footer was read). */
  complete: boolean;
  messages: number;
  channels: number;
  /** Bytes of the input that were usable, and the input's size. */
  bytesUsed: number;
  bytesIn: number;
  /** Why reading stopped before the end, if it did. */
  stoppedBy: string | null;
}

export const decompressHandlers: McapTypes.DecompressHandlers = {
  zstd: (buf, size) => zstd.decompress(buf, Number(size)),
};

/** Every complete record of `input`, in file order; stops at the first torn or bad one. */
export async function salvage(input: Uint8Array): Promise<{ records: McapTypes.TypedMcapRecord[]; complete: boolean; bytesUsed: number; stoppedBy: string | null }> {
  await zstd.isLoaded;
  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  reader.append(input);
  const records: McapTypes.TypedMcapRecord[] = [];
  let stoppedBy: string | null = null;
  try {
    for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) records.push(r);
  } catch (e) {
    stoppedBy = (e as Error).message;
  }
  const complete = reader.done();
  if (!complete && stoppedBy === null) stoppedBy = `truncated: ${reader.bytesRemaining()} bytes at the end form no complete record`;
  return { records, complete, bytesUsed: input.length - reader.bytesRemaining(), stoppedBy };
}

/** Writes the salvageable part of `inPath` to `outPath` (which must not exist). */
export async function recoverMcap(inPath: string, outPath: string, compression: 'zstd' | 'none' = 'zstd'): Promise<RecoverResult> {
  const input = readFileSync(inPath);
  const s = await salvage(input);
  const sink = McapFileSink.create(outPath);
  const writer = new McapWriter({
    writable: sink,
    ...(compression === 'zstd' ? { compressChunk: (data: Uint8Array) => ({ compression: 'zstd', compressedData: zstd.compress(data, 3) }) } : {}),
  });
  const header = s.records.find((r) => r.type === 'Header');
  await writer.start({ profile: header?.profile ?? '', library: header?.library ?? 'spinal-recover' });
  const schemaIds = new Map<number, number>();
  const channelIds = new Map<number, number>();
  let messages = 0;
  try {
    for (const r of s.records) {
      if (r.type === 'Schema' && !schemaIds.has(r.id)) {
        schemaIds.set(r.id, await writer.registerSchema({ name: r.name, encoding: r.encoding, data: r.data }));
      } else if (r.type === 'Channel' && !channelIds.has(r.id)) {
        channelIds.set(r.id, await writer.registerChannel({ topic: r.topic, messageEncoding: r.messageEncoding, metadata: r.metadata, schemaId: r.schemaId === 0 ? 0 : (schemaIds.get(r.schemaId) ?? 0) }));
      } else if (r.type === 'Message') {
        const id = channelIds.get(r.channelId);
        if (id === undefined) continue; // a message whose channel record was lost: nothing can decode it
        await writer.addMessage({ ...r, channelId: id });
        messages++;
      } else if (r.type === 'Metadata') {
        await writer.addMetadata({ name: r.name, metadata: r.metadata });
      } else if (r.type === 'Attachment') {
        await writer.addAttachment({ name: r.name, logTime: r.logTime, createTime: r.createTime, mediaType: r.mediaType, data: r.data });
      }
    }
    await writer.end();
  } finally {
    sink.close();
  }
  return { complete: s.complete, messages, channels: channelIds.size, bytesUsed: s.bytesUsed, bytesIn: input.length, stoppedBy: s.stoppedBy };
}
