/**
 * The writer thread's work, without the thread: the black-box ring, the rotated recording files
 * and the directory's quota. recorder-worker.ts drives one from its port; tests drive it directly.
 *
 * Quota invariant: before a file is opened, room is made for a whole file (`rotateBytes`), and a
 * file is closed before a message could take it past `rotateBytes` (McapFile.projectedBytes is an
 * upper bound of its closed size); a black box first makes room for its own upper bound. So the
 * `*.mcap` files in the directory never exceed `quotaBytes` together, and the file system keeps
 * `minFreeBytes` free; when that cannot be had, recording stops and says why in `error`.
 */
import { basename, join } from 'node:path';
import type { RecordingMetadata } from '../../proto/recording/channels.js';
import { listRecordings, makeDirectory, makeRoom, type RecordingFile } from './disk-quota.js';
import { compressionReady, McapFile } from './mcap-file.js';
import type { RecordingConfig } from './recording-config.js';
import type { WriterStatus } from './recorder-protocol.js';

export interface FileClosed { path: string; bytes: number; messages: number; deleted: string[] }
export interface BlackBoxSaved { path: string | null; bytes: number; messages: number; reason: string; problem: string | null }

/** A sortable UTC stamp usable in a file name. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-');
}

export class RecordingWriter {
  private readonly topics: string[] = [];
  private file: McapFile | null = null;
  private recording: boolean;
  private error: string | null = null;
  private blackBoxSaves = 0;
  private fileSeq = 0;
  /** Files deleted to make room for the open one, reported when it closes. */
  private pendingDeleted: string[] = [];
  /** Bytes and count of the closed files in the directory (the open one is added in status()). */
  private closedBytes = 0;
  private closedFiles = 0;
  // The black-box ring: parallel arrays from `head`, oldest first, trimmed to the window by log time.
  private ringChannel: number[] = [];
  private ringTime: bigint[] = [];
  private ringData: string[] = [];
  private head = 0;
  private readonly windowNs: bigint;

  constructor(private readonly cfg: RecordingConfig, private readonly meta: RecordingMetadata, private readonly events: {
    onFile?: (e: FileClosed) => void;
    onError?: (message: string) => void;
  } = {}) {
    this.recording = cfg.enabled;
    this.windowNs = BigInt(Math.round(cfg.blackBoxSeconds * 1e9));
  }

  async init(): Promise<void> {
    makeDirectory(this.cfg.dir);
    await compressionReady(this.cfg.compression);
    this.rescan();
  }

  channel(index: number, topic: string): void {
    this.topics[index] = topic;
  }

  status(): WriterStatus {
    return {
      recording: this.recording && this.error === null,
      diskBytes: this.closedBytes + (this.file?.bytes ?? 0),
      files: this.closedFiles + (this.file !== null ? 1 : 0),
      blackBoxSaves: this.blackBoxSaves,
      error: this.error,
    };
  }

  async add(channel: number, timeNs: bigint, json: string): Promise<void> {
    if (this.windowNs > 0n) this.keep(channel, timeNs, json);
    if (!this.recording || this.error !== null) return;
    const topic = this.topics[channel];
    if (topic === undefined) return;
    let f = this.file;
    if (f !== null && (f.projectedBytes + json.length + 64 > this.cfg.rotateBytes || Date.now() - f.openedAtMs >= this.cfg.rotateSeconds * 1000)) {
      await this.closeFile();
      f = null;
    }
    f ??= await this.openFile();
    if (f === null) return;
    try {
      await f.add(topic, timeNs, json);
    } catch (e) {
      this.fail(`writing ${f.path}: ${(e as Error).message}`);
    }
  }

  async setRecording(on: boolean): Promise<void> {
    if (on === this.recording) return;
    this.recording = on;
    if (!on) await this.closeFile();
    else this.error = null;
  }

  /** Writes the ring (the last `blackBoxSeconds` of every channel) to its own file. */
  async saveBlackBox(reason: string): Promise<BlackBoxSaved> {
    const n = this.ringData.length - this.head;
    let estimate = 8192;
    const channels = new Set<number>();
    for (let i = this.head; i < this.ringData.length; i++) {
      estimate += (this.ringData[i] as string).length + 64;
      channels.add(this.ringChannel[i] as number);
    }
    estimate += channels.size * 2048 + Math.ceil(estimate / this.cfg.chunkBytes + 1) * (96 + 24 * channels.size);
    const open = this.file;
    // The open recording may still grow to rotateBytes: keep room for that too.
    const need = estimate + (open !== null ? Math.max(0, this.cfg.rotateBytes - open.bytes) : 0);
    const room = makeRoom(this.cfg.dir, need, this.cfg.quotaBytes, this.cfg.minFreeBytes, open !== null ? new Set([basename(open.path)]) : new Set());
    this.account(room.files, open);
    if (room.problem !== null) return { path: null, bytes: 0, messages: 0, reason, problem: room.problem };
    const safe = reason.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
    const f = await McapFile.open({ path: join(this.cfg.dir, `${stamp(Date.now())}-${this.meta.robotId}-blackbox-${safe}.mcap`), compression: this.cfg.compression, chunkBytes: this.cfg.chunkBytes, metadata: this.meta });
    try {
      for (let i = this.head; i < this.ringData.length; i++) {
        const topic = this.topics[this.ringChannel[i] as number];
        if (topic !== undefined) await f.add(topic, this.ringTime[i] as bigint, this.ringData[i] as string);
      }
      const bytes = await f.close();
      this.blackBoxSaves++;
      this.closedBytes += bytes;
      this.closedFiles++;
      return { path: f.path, bytes, messages: n, reason, problem: null };
    } catch (e) {
      f.abandon();
      return { path: f.path, bytes: f.bytes, messages: 0, reason, problem: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  private keep(channel: number, timeNs: bigint, json: string): void {
    this.ringChannel.push(channel);
    this.ringTime.push(timeNs);
    this.ringData.push(json);
    const oldest = timeNs - this.windowNs;
    while (this.head < this.ringTime.length && (this.ringTime[this.head] as bigint) < oldest) this.head++;
    if (this.head > 4096 && this.head * 2 > this.ringData.length) {
      this.ringChannel = this.ringChannel.slice(this.head);
      this.ringTime = this.ringTime.slice(this.head);
      this.ringData = this.ringData.slice(this.head);
      this.head = 0;
    }
  }

  private async openFile(): Promise<McapFile | null> {
    const room = makeRoom(this.cfg.dir, this.cfg.rotateBytes, this.cfg.quotaBytes, this.cfg.minFreeBytes);
    this.account(room.files, null);
    if (room.problem !== null) {
      this.fail(room.problem);
      return null;
    }
    try {
      this.file = await McapFile.open({
        path: join(this.cfg.dir, `${stamp(Date.now())}-${this.meta.robotId}-${String(this.fileSeq++).padStart(4, '0')}.mcap`),
        compression: this.cfg.compression, chunkBytes: this.cfg.chunkBytes, metadata: this.meta,
      });
      this.pendingDeleted = room.deleted;
      return this.file;
    } catch (e) {
      this.fail(`opening a recording in ${this.cfg.dir}: ${(e as Error).message}`);
      return null;
    }
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    if (f === null) return;
    this.file = null;
    try {
      const bytes = await f.close();
      this.closedBytes += bytes;
      this.closedFiles++;
      this.events.onFile?.({ path: f.path, bytes, messages: f.messages, deleted: this.pendingDeleted });
    } catch (e) {
      f.abandon();
      this.fail(`closing ${f.path}: ${(e as Error).message}`);
    }
    this.pendingDeleted = [];
  }

  private account(files: RecordingFile[], open: McapFile | null): void {
    const openName = open !== null ? basename(open.path) : null;
    const closed = files.filter((f) => f.name !== openName);
    this.closedBytes = closed.reduce((s, f) => s + f.bytes, 0);
    this.closedFiles = closed.length;
  }

  private rescan(): void {
    this.account(listRecordings(this.cfg.dir), null);
  }

  private fail(message: string): void {
    if (this.error !== null) return;
    this.error = message;
    const f = this.file;
    this.file = null;
    f?.abandon();
    this.events.onError?.(message);
  }
}
