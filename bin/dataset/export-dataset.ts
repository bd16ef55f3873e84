/**
 * `spinal dataset export`: flight recordings → one LeRobot v3.0 dataset.
 *
 * Streams each recording once in log-time order through the Framer (episodes, fps grid), keeps the
 * current episode's frames and the current data file in memory, pipes camera frames to ffmpeg as
 * they are made, and builds everything in a temporary directory next to `out` that is renamed onto
 * `out` only when complete: a failed export leaves nothing behind.
 */
import { existsSync, readdirSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Topic } from '../../proto/recording/channels.js';
import { findExecutable } from '../../edge/camera/v4l2-camera.js';
import { DatasetError } from './dataset-error.js';
import { Framer, type EpisodeCut, type Frame } from './framer.js';
import { chunkFilePath, imageKey, VIDEO_PATH, type DatasetInfo } from './lerobot-layout.js';
import { LeRobotWriter } from './lerobot-writer.js';
import { checkCommand, checkEpisode, checkImage, checkState } from './message-checks.js';
import { openRecording, type OpenRecording } from './recording-reader.js';
import { VideoEncoder, type VideoInfo } from './video-encoder.js';

export type TaskFrom = 'episodes' | 'task-id';

export interface ExportOptions {
  recordings: string[];
  out: string;
  /** Frames per second of the dataset (an integer, as LeRobot's fps is). Default 30. */
  fps?: number;
  /** Task text of an episode: its `task` (default) or its `taskId`. */
  taskFrom?: TaskFrom;
  /** One task text for every episode, instead of the recorded ones. */
  task?: string;
  /** Skip episodes that have no frame at this fps (default: refuse them). */
  skipEmpty?: boolean;
  /** Replace `out` when it exists (default: refuse). */
  overwrite?: boolean;
  /** Encode camera videos (default true when a recording has cameras and ffmpeg is found). */
  videos?: boolean;
  /** ffmpeg to use; default: the one on PATH; null: none. */
  ffmpeg?: string | null;
  dataFileMb?: number;
  log?: (line: string) => void;
}

export interface ExportedEpisode {
  index: number;
  recording: string;
  recordedIndex: number;
  task: string;
  frames: number;
  outcome: string;
  note: string;
}

export interface ExportSummary {
  out: string;
  info: DatasetInfo;
  episodes: ExportedEpisode[];
  skipped: string[];
  /** Why there are no videos when the recordings have cameras; null otherwise. */
  videoNote: string | null;
  stateMessages: number;
  commandMessages: number;
  lateMessages: number;
}

class FloatRows {
  private buf: Float32Array;
  rows = 0;
  constructor(readonly dim: number) {
    this.buf = new Float32Array(dim * 1024);
  }
  push(row: Float32Array): void {
    if ((this.rows + 1) * this.dim > this.buf.length) {
      const next = new Float32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(row, this.rows * this.dim);
    this.rows++;
  }
  take(): Float32Array {
    const out = this.buf.slice(0, this.rows * this.dim);
    this.rows = 0;
    return out;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkCompatible(recs: OpenRecording[]): void {
  const first = recs[0] as OpenRecording;
  for (const r of recs.slice(1)) {
    if (!sameList(r.metadata.jointNames, first.metadata.jointNames)) throw new DatasetError(`${r.path}: joints ${JSON.stringify(r.metadata.jointNames)} differ from ${first.path}'s ${JSON.stringify(first.metadata.jointNames)}; one dataset holds one robot layout`);
    if (r.metadata.profile !== first.metadata.profile) throw new DatasetError(`${r.path}: robot profile ${JSON.stringify(r.metadata.profile)} differs from ${first.path}'s ${JSON.stringify(first.metadata.profile)}`);
    if (!sameList([...r.metadata.cameraIds].sort(), [...first.metadata.cameraIds].sort())) throw new DatasetError(`${r.path}: cameras ${JSON.stringify(r.metadata.cameraIds)} differ from ${first.path}'s ${JSON.stringify(first.metadata.cameraIds)}`);
  }
}

function checkOut(out: string, overwrite: boolean): void {
  if (!existsSync(out)) return;
  if (!overwrite && readdirSync(out).length > 0) throw new DatasetError(`${out}: exists and is not empty (pass --overwrite to replace it)`);
}

export async function exportDataset(o: ExportOptions): Promise<ExportSummary> {
  const fps = o.fps ?? 30;
  if (!Number.isInteger(fps) || fps < 1 || fps > 1000) throw new DatasetError(`--fps ${fps}: must be an integer from 1 to 1000`);
  if (o.recordings.length === 0) throw new DatasetError('no recording given');
  const log = o.log ?? ((): void => {});
  const out = resolve(o.out);
  checkOut(out, o.overwrite === true);
  const recs: OpenRecording[] = [];
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const encoders: VideoEncoder[] = [];
  try {
    for (const p of o.recordings) recs.push(await openRecording(p));
    checkCompatible(recs);
    const meta = (recs[0] as OpenRecording).metadata;
    const joints = meta.jointNames;
    const cameras = [...meta.cameraIds].sort();
    let videoNote: string | null = null;
    let ffmpeg: string | null = null;
    if (cameras.length > 0) {
      ffmpeg = o.ffmpeg === undefined ? findExecutable('ffmpeg') : o.ffmpeg;
      if (o.videos === false) videoNote = 'videos not requested (--no-videos)';
      else if (ffmpeg === null) videoNote = `no ffmpeg on PATH: camera videos (${cameras.join(', ')}) skipped; install ffmpeg (Debian: apt-get install ffmpeg) to export them`;
      if (videoNote !== null) log(`spinal dataset: ${videoNote}`);
    }
    const videoCams = videoNote === null ? cameras : [];
    mkdirSync(tmp, { recursive: true });
    for (const c of videoCams) encoders.push(new VideoEncoder(c, ffmpeg as string, fps, join(tmp, chunkFilePath(VIDEO_PATH, 0, 0, imageKey(c)))));
    const writer = new LeRobotWriter(tmp, {
      fps,
      robotType: meta.profile,
      stateNames: [...joints.map((j) => `${j}.pos`), ...joints.map((j) => `${j}.vel`)],
      actionNames: joints.map((j) => `${j}.pos`),
      cameras: videoCams,
      ...(o.dataFileMb !== undefined ? { dataFileMb: o.dataFileMb } : {}),
    });
    const episodes: ExportedEpisode[] = [];
    const skipped: string[] = [];
    let stateMessages = 0;
    let commandMessages = 0;
    let lateMessages = 0;
    for (const rec of recs) {
      const n = rec.metadata.jointNames.length;
      const state = new FloatRows(2 * n);
      const action = new FloatRows(n);
      let needDrain = false;
      const framer = new Framer(fps, n, videoCams.length, {
        frame(f: Frame) {
          state.push(f.state);
          action.push(f.action);
          encoders.forEach((e, i) => {
            needDrain = e.write(f.images[i] ?? null) || needDrain;
          });
        },
        episodeEnd(cut: EpisodeCut) {
          const s = state.take();
          const a = action.take();
          const outcome = cut.outcome ?? 'unknown';
          const label = `${rec.path}: episode ${cut.recordedIndex} (${JSON.stringify(cut.task)})`;
          if (cut.frames === 0) {
            const why = `${label} has no frame at ${fps} fps (no STATE and COMMAND between its start at ${cut.startUs} µs and its end at ${cut.endUs} µs)`;
            if (o.skipEmpty !== true) throw new DatasetError(`${why}; pass --skip-empty to leave it out`);
            skipped.push(why);
            log(`spinal dataset: skipped ${why}`);
            return;
          }
          const task = o.task ?? (o.taskFrom === 'task-id' ? cut.taskId : cut.task !== '' ? cut.task : cut.taskId);
          if (task === '') throw new DatasetError(`${label} has neither a task nor a task id; pass --task`);
          const notes = [cut.note, cut.gapFrames > 0 ? `${cut.gapFrames} frames across STATE gaps over 50 ms` : '', cut.marks > 0 ? `${cut.marks} operator marks` : ''].filter((x) => x !== '').join('; ');
          const index = writer.addEpisode({ task, frames: cut.frames, state: s, action: a, source: { recording: basename(rec.path), recordedIndex: cut.recordedIndex, outcome, note: notes } });
          episodes.push({ index, recording: rec.path, recordedIndex: cut.recordedIndex, task, frames: cut.frames, outcome, note: notes });
        },
      });
      const camIndex = new Map(videoCams.map((c, i) => [`/spinal/camera/${c}`, i]));
      const topics = [Topic.state, Topic.command, Topic.episode, ...camIndex.keys()];
      let offsetUs: number | null = null;
      for await (const m of rec.messages(topics)) {
        const w = { path: rec.path, topic: m.topic, logTimeNs: m.logTimeNs };
        if (m.topic === Topic.state) {
          const s = checkState(w, m.message, n);
          offsetUs ??= Number(m.logTimeNs / 1000n) - s.hostUs;
          stateMessages++;
          framer.state(s.hostUs, s);
        } else if (m.topic === Topic.command) {
          const c = checkCommand(w, m.message, n);
          offsetUs ??= Number(m.logTimeNs / 1000n) - c.hostUs;
          commandMessages++;
          framer.command(c.hostUs, c.target);
        } else if (m.topic === Topic.episode) {
          const e = checkEpisode(w, m.message);
          offsetUs ??= Number(m.logTimeNs / 1000n) - e.hostUs;
          framer.episode(e);
        } else {
          const cam = camIndex.get(m.topic);
          if (cam === undefined || offsetUs === null) continue; // an image before any host-timed message cannot be placed
          const img = checkImage(w, m.message);
          framer.image(cam, (img.stampUs ?? Number(m.logTimeNs / 1000n)) - offsetUs, img.bytes);
        }
        if (needDrain) {
          needDrain = false;
          for (const e of encoders) await e.drained();
        }
      }
      framer.flush();
      lateMessages += framer.late;
      if (framer.strayEnds > 0) log(`spinal dataset: ${rec.path}: ${framer.strayEnds} episode end records with no episode open were ignored`);
    }
    if (writer.episodeCount === 0) throw new DatasetError(`no episode with frames in ${o.recordings.join(', ')} (is there a ${Topic.episode} start record?)`);
    const videos = new Map<string, VideoInfo | null>();
    for (const e of encoders) {
      const v = await e.finish();
      if (v === null) log(`spinal dataset: camera ${e.camera} has no image in the exported episodes; its feature is left out`);
      videos.set(e.camera, v);
    }
    const info = writer.finish(videos);
    for (const r of recs) await r.close();
    recs.length = 0;
    if (existsSync(out)) {
      const old = `${tmp}.old`;
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, out);
    return { out, info, episodes, skipped, videoNote, stateMessages, commandMessages, lateMessages };
  } catch (e) {
    for (const enc of encoders) enc.abort();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    for (const r of recs) await r.close().catch(() => undefined);
  }
}
