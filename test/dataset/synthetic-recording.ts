/**
 * A deterministic synthetic flight: joints move on slow sines, STATE at `stateHz`, COMMAND at
 * `commandHz` (targets lead the state by 50 ms), episode records at the given times, and optional
 * cameras with small JPEG frames. Messages are written in host-time order, as the recorder would.
 */
import jpeg from 'jpeg-js';
import type { CommandRecord, EpisodeOutcome, EpisodeRecord, StateRecord } from '../../proto/recording/channels.js';
import { FixtureRecording, recordingMetadata, type FixtureOptions } from './fixture-recording.js';

export interface SyntheticEpisode {
  startS: number;
  /** Omit for an episode the recording never ends. */
  endS?: number;
  task: string;
  taskId?: string;
  outcome?: EpisodeOutcome;
}

export interface SyntheticOptions {
  durationS: number;
  stateHz: number;
  commandHz: number;
  joints: number;
  episodes: SyntheticEpisode[];
  cameras?: string[];
  cameraHz?: number;
  /** Host time of the first message, µs. */
  t0Us?: number;
  /** Keep what was written (for field-by-field checks); off for long recordings. */
  keep?: boolean;
  fixture?: FixtureOptions;
}

export interface Written {
  states: Pick<StateRecord, 'hostUs' | 'position' | 'velocity'>[];
  commands: Pick<CommandRecord, 'hostUs' | 'target'>[];
  episodes: EpisodeRecord[];
  messages: number;
}

export const jointNames = (n: number): string[] => Array.from({ length: n }, (_, j) => `j${j}`);

export function jointPosition(j: number, tS: number): number {
  return 0.5 * Math.sin(2 * Math.PI * (0.2 + 0.05 * j) * tS + j);
}

export function jointVelocity(j: number, tS: number): number {
  const w = 2 * Math.PI * (0.2 + 0.05 * j);
  return 0.5 * w * Math.cos(w * tS + j);
}

export function tinyJpeg(shade: number, width = 16, height = 12): Uint8Array {
  const data = Buffer.alloc(width * height * 4, shade & 0xff);
  return jpeg.encode({ data, width, height }, 80).data;
}

type Item = { us: number; order: number; write: () => Promise<void> };

export async function writeSyntheticRecording(path: string, o: SyntheticOptions): Promise<Written> {
  const t0 = o.t0Us ?? 5_000_000;
  const n = o.joints;
  const cameras = o.cameras ?? [];
  const rec = await FixtureRecording.create(path, recordingMetadata({ jointNames: jointNames(n), stateRateHz: o.stateHz, controlRateHz: o.commandHz, cameraIds: cameras }), o.fixture);
  const written: Written = { states: [], commands: [], episodes: [], messages: 0 };
  const endUs = t0 + o.durationS * 1e6;
  // Streams merged by time without materialising them: each yields its next item lazily.
  const streams: (() => Item | null)[] = [];
  let si = 0;
  streams.push(() => {
    const us = t0 + Math.round((si * 1e6) / o.stateHz);
    if (us > endUs) return null;
    const seq = si++;
    return {
      us, order: 1, write: () => {
        const t = (us - t0) / 1e6;
        const position = Array.from({ length: n }, (_, j) => jointPosition(j, t));
        const velocity = Array.from({ length: n }, (_, j) => jointVelocity(j, t));
        if (o.keep === true) written.states.push({ hostUs: us, position, velocity });
        return rec.state({ hostUs: us, mcuUs: us - t0, seq, status: 0, faults: 0, position, velocity, current: new Array<number>(n).fill(0) });
      },
    };
  });
  let ci = 0;
  streams.push(() => {
    const us = t0 + Math.round((ci * 1e6) / o.commandHz) + 300;
    if (us > endUs) return null;
    const seq = ci++;
    return {
      us, order: 2, write: () => {
        const t = (us - t0) / 1e6 + 0.05;
        const target = Array.from({ length: n }, (_, j) => jointPosition(j, t));
        if (o.keep === true) written.commands.push({ hostUs: us, target });
        return rec.command({ hostUs: us, seq, mode: 2, target, velocity: new Array<number>(n).fill(0) });
      },
    };
  });
  const marks: EpisodeRecord[] = [];
  o.episodes.forEach((e, index) => {
    const taskId = e.taskId ?? `task-${index}`;
    marks.push({ hostUs: t0 + Math.round(e.startS * 1e6), kind: 'start', index, taskId, task: e.task, source: 'task' });
    if (e.endS !== undefined) marks.push({ hostUs: t0 + Math.round(e.endS * 1e6), kind: 'end', index, taskId, task: e.task, outcome: e.outcome ?? 'success', source: e.outcome === 'estop' ? 'safety' : 'operator-1' });
  });
  marks.sort((a, b) => a.hostUs - b.hostUs);
  let mi = 0;
  streams.push(() => {
    const m = marks[mi++];
    return m === undefined ? null : { us: m.hostUs, order: 0, write: () => { written.episodes.push(m); return rec.episode(m); } };
  });
  cameras.forEach((c, k) => {
    let fi = 0;
    const hz = o.cameraHz ?? 15;
    streams.push(() => {
      const us = t0 + Math.round((fi * 1e6) / hz) + 1000 * (k + 1);
      if (us > endUs) return null;
      const shade = (fi++ * 7) % 256;
      return { us, order: 3 + k, write: () => rec.image(c, us, tinyJpeg(shade)) };
    });
  });
  const heads = streams.map((s) => s());
  for (;;) {
    let best = -1;
    heads.forEach((h, i) => {
      const b = best >= 0 ? heads[best] : null;
      if (h !== null && h !== undefined && (b == null || h.us < b.us || (h.us === b.us && h.order < b.order))) best = i;
    });
    if (best < 0) break;
    await (heads[best] as Item).write();
    written.messages++;
    heads[best] = (streams[best] as () => Item | null)();
  }
  await rec.close();
  return written;
}
