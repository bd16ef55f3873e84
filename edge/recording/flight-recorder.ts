/**
 * The flight recorder, main-thread side: a RecordingSink that serialises each message to JSON and
 * hands it, in batches, to the writer thread (recorder-worker.ts), which keeps the black-box ring
 * and writes the MCAP files.
 *
 * Invariants: publish() never blocks and never waits for the writer. Messages handed over and not
 * yet acknowledged are bounded by `queueMessages`; past that, messages are dropped and counted in
 * `dropped` (the order of those kept is preserved). A batch goes out when it holds BATCH messages
 * or FLUSH_MS after its first message, whichever comes first.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RecorderStatus, RecordingMetadata, RecordingSink } from '../../proto/recording/channels.js';
import type { RecordingConfig } from './recording-config.js';
import { RECORDER_WORKER_MARK, type FromRecorder, type RecorderWorkerData, type ToRecorder, type WriterStatus } from './recorder-protocol.js';
import { recorderWorkerUrl } from './recorder-worker-url.js';

const BATCH = 256;
const FLUSH_MS = 20;
const START_TIMEOUT_MS = 15_000;

export interface FlightRecorderEvents {
  /** A recording file was closed (rotation, recording turned off, or close()). */
  file: [e: { path: string; bytes: number; messages: number; deleted: string[] }];
  /** A black box was saved (path null and `problem` set when it could not be). */
  blackbox: [e: { path: string | null; bytes: number; messages: number; reason: string; problem: string | null }];
  /** Recording stopped: disk, quota or writer error (status().error says the same). */
  failed: [e: { message: string }];
}

export class FlightRecorder extends EventEmitter<FlightRecorderEvents> implements RecordingSink {
  private readonly channels = new Map<string, number>();
  private batchChannel = new Uint16Array(BATCH);
  private batchTime = new BigInt64Array(BATCH);
  private batchData: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private dropped = 0;
  private published = 0;
  private writer: WriterStatus;
  private closing: Promise<void> | null = null;
  private readonly closedWaiters: ((s: WriterStatus) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  /** The open episode, supplied by the episode tracker (status only). */
  episode: () => number | null = () => null;

  private constructor(private readonly worker: Worker, private readonly cfg: RecordingConfig) {
    super();
    this.writer = { recording: cfg.enabled, diskBytes: 0, files: 0, blackBoxSaves: 0, error: null };
    worker.on('message', (m: FromRecorder) => this.onWorker(m));
    worker.on('error', (e) => this.onWorker({ t: 'error', message: `recorder thread failed: ${e.message}` }));
    worker.on('exit', () => {
      for (const w of this.closedWaiters.splice(0)) w(this.writer);
    });
  }

  /** Starts the writer thread; resolves once its directory is usable. */
  static async start(cfg: RecordingConfig, metadata: RecordingMetadata): Promise<FlightRecorder> {
    const data: RecorderWorkerData = { mark: RECORDER_WORKER_MARK, config: cfg, metadata };
    const worker = new Worker(recorderWorkerUrl(), { workerData: data });
    const rec = new FlightRecorder(worker, cfg);
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromRecorder): void => {
        if (m.t === 'ready') done(null);
        else if (m.t === 'error') done(new Error(m.message));
      };
      const onExit = (code: number): void => done(new Error(`recorder thread exited with code ${code} before it was ready`));
      // A directory that never answers (a hung network mount) must not hang the daemon's start.
      const timer = setTimeout(() => done(new Error(`recording.dir ${JSON.stringify(cfg.dir)}: recorder thread not ready within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const done = (e: Error | null): void => {
        clearTimeout(timer);
        worker.off('message', onMsg);
        worker.off('exit', onExit);
        if (e === null) resolve();
        else {
          void worker.terminate();
          reject(e);
        }
      };
      worker.on('message', onMsg);
      worker.on('exit', onExit);
    });
    // A recorder must never keep the process alive by itself.
    worker.unref();
    return rec;
  }

  publish(topic: string, logTimeNs: bigint, message: object): void {
    if (this.closing !== null) return;
    this.published++;
    if (this.inFlight + this.batchData.length >= this.cfg.queueMessages) {
      this.dropped++;
      return;
    }
    let ch = this.channels.get(topic);
    if (ch === undefined) {
      ch = this.channels.size;
      this.channels.set(topic, ch);
      this.post({ t: 'channel', index: ch, topic });
    }
    const i = this.batchData.length;
    this.batchChannel[i] = ch;
    this.batchTime[i] = logTimeNs;
    this.batchData.push(JSON.stringify(message));
    if (i + 1 >= BATCH) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Full recording on or off; the black box runs either way. */
  setRecording(on: boolean): void {
    this.flush();
    this.writer = { ...this.writer, recording: on };
    this.post({ t: 'record', on });
  }

  /**
   * Saves the black box (the last `blackBoxSeconds` of every channel, including what was published
   * up to this call) to its own file; the 'blackbox' event reports it.
   */
  saveBlackBox(reason: string): void {
    if (this.closing !== null || this.cfg.blackBoxSeconds === 0) return;
    this.flush();
    this.post({ t: 'blackbox', reason });
  }

  status(): RecorderStatus {
    const w = this.writer;
    return {
      recording: w.recording, diskBytes: w.diskBytes, quotaBytes: this.cfg.quotaBytes, files: w.files,
      episode: this.episode(), blackBoxSaves: w.blackBoxSaves, dropped: this.dropped, error: w.error,
    };
  }

  /** Messages offered to publish() since start (kept or dropped). */
  get offered(): number {
    return this.published;
  }

  /** Resolves when every message published so far has been handled by the writer thread. */
  async drained(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return;
    this.worker.ref();
    try {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    } finally {
      this.worker.unref();
    }
  }

  /** Writes what is queued, closes the open file (with its summary) and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flush();
      const closed = new Promise<WriterStatus>((resolve) => this.closedWaiters.push(resolve));
      // Waited for: the thread must keep the process alive until it has closed the file.
      this.worker.ref();
      this.post({ t: 'close' });
      this.writer = await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const n = this.batchData.length;
    if (n === 0) return;
    const m: ToRecorder = { t: 'batch', channel: this.batchChannel.slice(0, n), timeNs: this.batchTime.slice(0, n), data: this.batchData };
    this.batchData = [];
    this.inFlight += n;
    this.post(m);
  }

  private post(m: ToRecorder): void {
    this.worker.postMessage(m);
  }

  private onWorker(m: FromRecorder): void {
    switch (m.t) {
      case 'ack':
        this.inFlight -= m.n;
        this.writer = m.status;
        if (this.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w();
        return;
      case 'file': this.emit('file', { path: m.path, bytes: m.bytes, messages: m.messages, deleted: m.deleted }); return;
      case 'blackbox':
        this.writer = m.status;
        this.emit('blackbox', { path: m.path, bytes: m.bytes, messages: m.messages, reason: m.reason, problem: m.problem });
        return;
      case 'error':
        this.writer = { ...this.writer, error: m.message, recording: false };
        this.emit('failed', { message: m.message });
        return;
      case 'closed':
        this.writer = m.status;
        for (const w of this.closedWaiters.splice(0)) w(m.status);
        return;
      case 'ready': return;
    }
  }
}
