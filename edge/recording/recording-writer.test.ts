import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORDING_SCHEMA_VERSION, Topic, type RecordingMetadata } from '../../proto/recording/channels.js';
import { listRecordings } from './disk-quota.js';
import { recordingConfig } from './recording-config.js';
import { RecordingWriter } from './recording-writer.js';
import { recoverMcap, salvage } from './recover.js';
import { openIndexed, readAllMessages } from './read-recording.js';

const root = mkdtempSync(join(tmpdir(), 'spinal-rec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `d${dirs++}`);

const meta: RecordingMetadata = {
  schemaVersion: RECORDING_SCHEMA_VERSION, robotId: 'r1', profile: 'arm6-gripper', jointNames: ['a', 'b'],
  stateRateHz: 1000, controlRateHz: 200, cameraIds: [], edgeVersion: '0.0.0',
};
const T0 = 1_700_000_000_000_000_000n;
const stateJson = (i: number): string => JSON.stringify({ hostUs: i * 1000, mcuUs: i * 1000, seq: i, status: 0, faults: 0, position: [Math.sin(i / 100), Math.cos(i / 50)], velocity: [0.1, -0.2], current: [0.5, 0.25] });

async function writeStates(w: RecordingWriter, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await w.add(0, T0 + BigInt(i) * 1_000_000n, stateJson(i));
}

describe('RecordingWriter', () => {
  it('writes every message, in order, with the recording metadata, to a valid indexed MCAP', async () => {
    const dir = freshDir();
    const w = new RecordingWriter(recordingConfig({ dir, enabled: true, chunkBytes: 16 * 1024 }), meta);
    await w.init();
    w.channel(0, Topic.state);
    await writeStates(w, 0, 5000);
    await w.close();
    const files = listRecordings(dir);
    expect(files).toHaveLength(1);
    const { messages, metadata, reader } = await readAllMessages(join(dir, (files[0] as { name: string }).name));
    expect(messages.map((m) => m.message.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(messages.every((m) => m.topic === Topic.state)).toBe(true);
    expect(metadata?.get('robotId')).toBe('r1');
    expect(JSON.parse(metadata?.get('jointNames') ?? 'null')).toEqual(['a', 'b']);
    expect(reader.header.profile).toBe('spinal');
    expect(reader.chunkIndexes.length).toBeGreaterThan(5);
    expect(reader.chunkIndexes.every((c) => c.compression === 'zstd')).toBe(true);
  });

  it('rotates by size and keeps the directory under its quota at every rotation, deleting the oldest first', async () => {
    const dir = freshDir();
    const cfg = recordingConfig({ dir, enabled: true, chunkBytes: 8192, rotateBytes: 64 * 1024, quotaBytes: 256 * 1024, minFreeBytes: 0, compression: 'none' });
    const seen: { total: number; deleted: string[] }[] = [];
    const w = new RecordingWriter(cfg, meta, {
      onFile: (e) => seen.push({ total: listRecordings(dir).reduce((s, f) => s + f.bytes, 0), deleted: e.deleted }),
    });
    await w.init();
    w.channel(0, Topic.state);
    // Checked after every message too: the open file counts at its size on disk.
    let maxTotal = 0;
    for (let i = 0; i < 20_000; i++) {
      await w.add(0, T0 + BigInt(i) * 1_000_000n, stateJson(i));
      if (i % 97 === 0) maxTotal = Math.max(maxTotal, listRecordings(dir).reduce((s, f) => s + f.bytes, 0));
    }
    await w.close();
    const files = listRecordings(dir);
    const total = files.reduce((s, f) => s + f.bytes, 0);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.some((s) => s.deleted.length > 0)).toBe(true);
    for (const s of seen) expect(s.total).toBeLessThanOrEqual(cfg.quotaBytes);
    expect(maxTotal).toBeLessThanOrEqual(cfg.quotaBytes);
    expect(total).toBeLessThanOrEqual(cfg.quotaBytes);
    for (const f of files) expect(f.bytes).toBeLessThanOrEqual(cfg.rotateBytes);
    // What is kept is the newest: the last file ends with the last message.
    const last = await readAllMessages(join(dir, (files[files.length - 1] as { name: string }).name));
    expect(last.messages[last.messages.length - 1]?.message.seq).toBe(19_999);
    expect(w.status().diskBytes).toBe(total);
  });

  it('stops recording and says why rather than leave the disk with less than minFreeBytes free', async () => {
    const dir = freshDir();
    const w = new RecordingWriter(recordingConfig({ dir, enabled: true, minFreeBytes: Number.MAX_SAFE_INTEGER }), meta);
    await w.init();
    w.channel(0, Topic.state);
    await w.add(0, T0, stateJson(0));
    expect(w.status().error).toMatch(/^disk nearly full: \d+ bytes free in .*, recording.minFreeBytes is \d+$/);
    expect(w.status().recording).toBe(false);
    expect(listRecordings(dir)).toHaveLength(0);
  });

  it('black box: with recording off, keeps only the last blackBoxSeconds and saves them to their own file', async () => {
    const dir = freshDir();
    const w = new RecordingWriter(recordingConfig({ dir, enabled: false, blackBoxSeconds: 1 }), meta);
    await w.init();
    w.channel(0, Topic.state);
    w.channel(1, Topic.safety);
    await writeStates(w, 0, 3000); // 3 s at 1 kHz
    await w.add(1, T0 + 3000n * 1_000_000n, JSON.stringify({ hostUs: 3e6, event: 'transition', to: 'ESTOP' }));
    expect(listRecordings(dir)).toHaveLength(0);
    const saved = await w.saveBlackBox('ESTOP-remote-estop');
    expect(saved.problem).toBeNull();
    expect(saved.path).toMatch(/blackbox-ESTOP-remote-estop\.mcap$/);
    const { messages } = await readAllMessages(saved.path as string);
    const states = messages.filter((m) => m.topic === Topic.state).map((m) => m.message.seq as number);
    expect(states[0]).toBe(2000);
    expect(states[states.length - 1]).toBe(2999);
    expect(messages[messages.length - 1]?.topic).toBe(Topic.safety);
    expect(w.status().blackBoxSaves).toBe(1);
    expect(listRecordings(dir)).toHaveLength(1);
  });
});

describe('recover', () => {
  it('a file cut at any offset yields every message of the chunks wholly before the cut, as a valid file', async () => {
    const dir = freshDir();
    const w = new RecordingWriter(recordingConfig({ dir, enabled: true, chunkBytes: 8192 }), meta);
    await w.init();
    w.channel(0, Topic.state);
    w.channel(1, Topic.command);
    for (let i = 0; i < 3000; i++) {
      await w.add(0, T0 + BigInt(i) * 1_000_000n, stateJson(i));
      if (i % 5 === 0) await w.add(1, T0 + BigInt(i) * 1_000_000n + 1n, JSON.stringify({ hostUs: i * 1000, seq: i / 5, mode: 1, target: [0, 1], velocity: [0, 0] }));
    }
    await w.close();
    const path = join(dir, (listRecordings(dir)[0] as { name: string }).name);
    const whole = readFileSync(path);
    const full = await openIndexed(path);
    // Messages per chunk, from the index: a message lives in the chunk whose time range holds it.
    const chunkEnds = full.chunkIndexes.map((c) => ({ end: Number(c.chunkStartOffset + c.chunkLength), from: c.messageStartTime, to: c.messageEndTime }));
    const all = (await readAllMessages(path)).messages;
    const expected = (cut: number): number => {
      const done = chunkEnds.filter((c) => c.end <= cut);
      return all.filter((m) => done.some((c) => m.logTimeNs >= c.from && m.logTimeNs <= c.to)).length;
    };
    const seed = Number(process.env.SPINAL_FC_SEED ?? Date.now() % 0x7fffffff);
    console.log(`recover property: fast-check seed ${seed}`);
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: whole.length - 1 }), async (cut) => {
      const cutPath = join(dir, `cut-${run}.bin`);
      const outPath = join(dir, `cut-${run++}.recovered`);
      writeFileSync(cutPath, whole.subarray(0, cut));
      const r = await recoverMcap(cutPath, outPath);
      const back = await readAllMessages(outPath);
      expect(r.messages).toBe(expected(cut));
      expect(back.messages.length).toBe(r.messages);
      // The recovered messages are the original ones, in order.
      expect(back.messages.map((m) => [m.topic, m.logTimeNs])).toEqual(all.slice(0, r.messages).map((m) => [m.topic, m.logTimeNs]));
      expect(r.complete).toBe(false);
    }), { seed, numRuns: 40 });
    // The whole file reads as complete.
    const s = await salvage(whole);
    expect(s.complete).toBe(true);
  }, 60_000);
});
