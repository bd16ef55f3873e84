/** The `spinal dataset` subcommands' bodies: run, print, and turn refusals into one clear line. */
import { DatasetError } from './dataset-error.js';
import { exportDataset, type TaskFrom } from './export-dataset.js';
import { inspect } from './inspect.js';
import { replayIntoDashboard } from './replay-dashboard.js';
import { renderReplay, replayIntoPlant } from './replay-plant.js';

export interface ExportCliOptions {
  out: string;
  fps: number;
  taskFrom: string;
  task?: string;
  skipEmpty?: boolean;
  overwrite?: boolean;
  videos: boolean;
}

function refuse(e: unknown): number {
  if (e instanceof DatasetError) {
    console.error(`spinal dataset: ${e.message}`);
    return 2;
  }
  throw e;
}

export async function runExportCli(recordings: string[], o: ExportCliOptions): Promise<number> {
  if (o.taskFrom !== 'episodes' && o.taskFrom !== 'task-id') {
    console.error(`spinal dataset export: --task-from ${JSON.stringify(o.taskFrom)} is not one of episodes, task-id`);
    return 2;
  }
  try {
    const t0 = performance.now();
    const s = await exportDataset({
      recordings, out: o.out, fps: o.fps, taskFrom: o.taskFrom as TaskFrom, videos: o.videos,
      ...(o.task !== undefined ? { task: o.task } : {}), ...(o.skipEmpty === true ? { skipEmpty: true } : {}), ...(o.overwrite === true ? { overwrite: true } : {}),
      log: (line) => console.error(line),
    });
    const seconds = (performance.now() - t0) / 1000;
    for (const e of s.episodes) console.log(`episode ${e.index}: ${e.frames} frames, ${e.outcome}, ${JSON.stringify(e.task)} (${e.recording} #${e.recordedIndex})${e.note !== '' ? ` — ${e.note}` : ''}`);
    const videos = Object.keys(s.info.features).filter((k) => s.info.features[k]?.dtype === 'video');
    console.log(`${s.out}: LeRobot ${s.info.codebase_version}, ${s.info.total_episodes} episodes, ${s.info.total_frames} frames at ${s.info.fps} fps, ${s.info.total_tasks} tasks, videos: ${videos.length > 0 ? videos.join(', ') : 'none'} (${seconds.toFixed(1)} s, ${Math.round(s.info.total_frames / seconds)} frames/s)`);
    if (s.lateMessages > 0) console.error(`spinal dataset: ${s.lateMessages} messages arrived after frames later than them were made`);
    return 0;
  } catch (e) {
    return refuse(e);
  }
}

export async function runInspectCli(path: string): Promise<number> {
  try {
    console.log(await inspect(path));
    return 0;
  } catch (e) {
    return refuse(e);
  }
}

export interface ReplayCliOptions {
  into: string;
  broker?: string;
  fleet?: string;
  robot?: string;
  username?: string;
  speed?: string;
  rate?: number;
}

async function replayDashboard(path: string, o: ReplayCliOptions): Promise<number> {
  if (o.broker === undefined || o.fleet === undefined) {
    console.error('spinal dataset replay --into dashboard: needs --broker <url> and --fleet <name>');
    return 2;
  }
  const speed = o.speed === undefined ? 1 : o.speed === 'max' ? Infinity : Number(o.speed);
  try {
    const password = process.env['SPINAL_REPLAY_PASSWORD'];
    const r = await replayIntoDashboard({
      recording: path, brokerUrl: o.broker, fleet: o.fleet, speed,
      ...(o.robot !== undefined ? { robot: o.robot } : {}), ...(o.username !== undefined ? { username: o.username } : {}),
      ...(password !== undefined ? { password } : {}), ...(o.rate !== undefined ? { rateHz: o.rate } : {}),
    });
    console.log(`${path}: ${r.published} state summaries over ${r.recordedS.toFixed(1)} recorded s published on ${r.topic}`);
    return 0;
  } catch (e) {
    return refuse(e);
  }
}

export async function runReplayCli(path: string, o: ReplayCliOptions): Promise<number> {
  const into = o.into;
  if (into === 'dashboard') return replayDashboard(path, o);
  if (into !== 'plant') {
    console.error(`spinal dataset replay: --into ${JSON.stringify(into)} is not one of plant, dashboard`);
    return 2;
  }
  try {
    console.log(renderReplay(await replayIntoPlant(path)));
    return 0;
  } catch (e) {
    return refuse(e);
  }
}
