/** `spinal dataset inspect`: what a recording holds (episodes, rates, topics), or a dataset's summary. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Topic } from '../../proto/recording/channels.js';
import { DatasetError } from './dataset-error.js';
import { checkEpisode } from './message-checks.js';
import { openRecording } from './recording-reader.js';
import type { DatasetInfo } from './lerobot-layout.js';

export interface RecordingSummary {
  path: string;
  robotId: string;
  profile: string;
  joints: string[];
  cameras: string[];
  stateRateHz: number;
  controlRateHz: number;
  durationS: number;
  topics: { topic: string; messages: number; rateHz: number }[];
  episodes: { index: number; task: string; startS: number; durationS: number | null; outcome: string; marks: number }[];
}

export async function inspectRecording(path: string): Promise<RecordingSummary> {
  const rec = await openRecording(path);
  try {
    const durationS = rec.startNs !== null && rec.endNs !== null ? Number(rec.endNs - rec.startNs) / 1e9 : 0;
    const episodes: RecordingSummary['episodes'] = [];
    const open = new Map<number, { start: number; task: string; marks: number }>();
    let firstUs: number | null = null;
    for await (const m of rec.messages([Topic.episode])) {
      const e = checkEpisode({ path, topic: m.topic, logTimeNs: m.logTimeNs }, m.message);
      firstUs ??= e.hostUs - Number((m.logTimeNs - (rec.startNs ?? m.logTimeNs)) / 1000n);
      if (e.kind === 'start') open.set(e.index, { start: e.hostUs, task: e.task || e.taskId, marks: 0 });
      else if (e.kind === 'mark') {
        const o = open.get(e.index);
        if (o) o.marks++;
      } else {
        const o = open.get(e.index);
        if (o) {
          episodes.push({ index: e.index, task: o.task, startS: (o.start - firstUs) / 1e6, durationS: (e.hostUs - o.start) / 1e6, outcome: e.outcome ?? 'unknown', marks: o.marks });
          open.delete(e.index);
        }
      }
    }
    for (const [index, o] of open) episodes.push({ index, task: o.task, startS: (o.start - (firstUs ?? o.start)) / 1e6, durationS: null, outcome: 'open (no end record)', marks: o.marks });
    episodes.sort((a, b) => a.startS - b.startS);
    return {
      path, robotId: rec.metadata.robotId, profile: rec.metadata.profile, joints: rec.metadata.jointNames, cameras: rec.metadata.cameraIds,
      stateRateHz: rec.metadata.stateRateHz, controlRateHz: rec.metadata.controlRateHz, durationS,
      topics: rec.topics.map((topic) => {
        const messages = rec.messageCounts.get(topic) ?? 0;
        return { topic, messages, rateHz: durationS > 0 ? messages / durationS : 0 };
      }),
      episodes,
    };
  } finally {
    await rec.close();
  }
}

export function renderRecordingSummary(s: RecordingSummary): string {
  const lines = [
    `${s.path}: robot ${s.robotId} (${s.profile}), ${s.durationS.toFixed(1)} s`,
    `joints (${s.joints.length}): ${s.joints.join(', ')}`,
    `rates: STATE ${s.stateRateHz} Hz, control ${s.controlRateHz} Hz; cameras: ${s.cameras.length > 0 ? s.cameras.join(', ') : 'none'}`,
    'topic                          messages    rate (Hz)',
    ...s.topics.map((t) => `${t.topic.padEnd(30)} ${String(t.messages).padStart(8)} ${t.rateHz.toFixed(1).padStart(12)}`),
    `episodes (${s.episodes.length}):`,
    ...s.episodes.map((e) => `  #${e.index} at ${e.startS.toFixed(2)} s, ${e.durationS === null ? '?' : e.durationS.toFixed(2)} s, ${e.outcome}${e.marks > 0 ? `, ${e.marks} marks` : ''}: ${JSON.stringify(e.task)}`),
  ];
  return lines.join('\n');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

export function inspectDataset(dir: string): string {
  const infoPath = join(dir, 'meta/info.json');
  if (!existsSync(infoPath)) throw new DatasetError(`${dir}: no meta/info.json: not a LeRobot dataset`);
  const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DatasetInfo;
  const lines = [
    `${dir}: LeRobot dataset ${info.codebase_version}, robot ${info.robot_type ?? '?'}, ${info.fps} fps`,
    `${info.total_episodes} episodes, ${info.total_frames} frames (${(info.total_frames / info.fps).toFixed(1)} s), ${info.total_tasks} tasks`,
    'features:',
    ...Object.entries(info.features).map(([k, f]) => `  ${k.padEnd(32)} ${f.dtype.padEnd(8)} [${f.shape.join(', ')}]${f.names !== null && f.dtype !== 'video' ? ` ${f.names.slice(0, 8).join(', ')}${f.names.length > 8 ? ', …' : ''}` : ''}`),
    'files:',
    ...filesUnder(dir).sort().map((f) => `  ${relative(dir, f).padEnd(48)} ${(statSync(f).size / 1024).toFixed(1).padStart(10)} KiB`),
  ];
  return lines.join('\n');
}

/** A directory with meta/info.json is a dataset; anything else is read as a recording. */
export async function inspect(path: string): Promise<string> {
  if (existsSync(path) && statSync(path).isDirectory()) return inspectDataset(path);
  return renderRecordingSummary(await inspectRecording(path));
}
