/**
 * Reading recordings back (tests, `spinal dataset`-style tools): an indexed reader over a file's
 * bytes, and every message of a file decoded from JSON, in log-time order.
 */
import { readFileSync } from 'node:fs';
import { McapIndexedReader, type McapTypes } from '@mcap/core';
import * as zstd from '@foxglove/wasm-zstd';
import { decompressHandlers } from './recover.js';

export interface ReadMessage {
  topic: string;
  logTimeNs: bigint;
  sequence: number;
  message: Record<string, unknown>;
}

/** An indexed reader over a whole file held in memory. */
export async function openIndexed(path: string): Promise<McapIndexedReader> {
  await zstd.isLoaded;
  const bytes = readFileSync(path);
  const readable: McapTypes.IReadable = {
    size: () => Promise.resolve(BigInt(bytes.length)),
    read: (offset, size) => Promise.resolve(new Uint8Array(bytes.buffer, bytes.byteOffset + Number(offset), Number(size))),
  };
  return McapIndexedReader.Initialize({ readable, decompressHandlers });
}

export async function readAllMessages(path: string): Promise<{ messages: ReadMessage[]; metadata: Map<string, string> | null; reader: McapIndexedReader }> {
  const reader = await openIndexed(path);
  const decoder = new TextDecoder();
  const messages: ReadMessage[] = [];
  for await (const m of reader.readMessages()) {
    const ch = reader.channelsById.get(m.channelId);
    messages.push({ topic: ch?.topic ?? '?', logTimeNs: m.logTime, sequence: m.sequence, message: JSON.parse(decoder.decode(m.data)) as Record<string, unknown> });
  }
  let metadata: Map<string, string> | null = null;
  for await (const md of reader.readMetadata({ name: 'spinal.recording' })) metadata = md.metadata;
  return { messages, metadata, reader };
}
