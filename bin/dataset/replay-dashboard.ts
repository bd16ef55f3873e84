/**
 * `spinal dataset replay --into dashboard`: publishes a recording as the robot's state summaries on
 * the fleet broker (`spinal/v1/<fleet>/<robot>/state`, the schema of proto/mqtt), paced by the
 * recorded host times, so the dashboard shows the flight again. The summaries carry what the
 * recording has (measured joints, the last COMMAND sent, the episode's task); safety and link read
 * `replay`, since a replay commands nothing and no robot is behind it. `at` is the time of
 * publication (the dashboard judges freshness by it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { encodePayload, robotTopics, StateSummarySchema, type StateSummary } from '../../proto/mqtt/index.js';
import { Topic } from '../../proto/recording/channels.js';
import { DatasetError } from './dataset-error.js';
import { checkCommand, checkEpisode, checkState } from './message-checks.js';
import { openRecording } from './recording-reader.js';

const MODES = ['DISABLE', 'HOLD', 'POSITION', 'VELOCITY', 'CURRENT'];

export interface DashboardReplayOptions {
  recording: string;
  brokerUrl: string;
  fleet: string;
  /** Default: the recording's robot id. */
  robot?: string;
  username?: string;
  password?: string;
  /** Summaries per second of recorded time (default 10, the edge's telemetry rate). */
  rateHz?: number;
  /** Recorded seconds per wall second (default 1); Infinity publishes as fast as it can. */
  speed?: number;
}

export interface DashboardReplayReport {
  topic: string;
  published: number;
  recordedS: number;
}

export async function replayIntoDashboard(o: DashboardReplayOptions): Promise<DashboardReplayReport> {
  const rateHz = o.rateHz ?? 10;
  const speed = o.speed ?? 1;
  if (!(rateHz > 0 && rateHz <= 1000)) throw new DatasetError(`--rate ${rateHz}: must be in (0, 1000] summaries per second`);
  if (!(speed > 0)) throw new DatasetError(`--speed ${speed}: must be positive`);
  const rec = await openRecording(o.recording);
  const robot = o.robot ?? rec.metadata.robotId;
  let topic: string;
  try {
    topic = robotTopics(o.fleet, robot).state;
  } catch (e) {
    await rec.close();
    throw new DatasetError(`${o.recording}: ${(e as Error).message}`);
  }
  let client: mqtt.MqttClient;
  try {
    client = await mqtt.connectAsync(o.brokerUrl, {
      reconnectPeriod: 0, clientId: `spinal-replay-${robot}-${process.pid}`,
      ...(o.username !== undefined ? { username: o.username } : {}), ...(o.password !== undefined ? { password: o.password } : {}),
    });
  } catch (e) {
    await rec.close();
    throw new DatasetError(`${o.brokerUrl}: cannot connect to the broker (${(e as Error).message})`);
  }
  const n = rec.metadata.jointNames.length;
  const periodUs = 1e6 / rateHz;
  let nextUs: number | null = null;
  let firstUs = 0;
  const wall0 = performance.now();
  let published = 0;
  let sent: StateSummary['sent'] = null;
  let sentUs = 0;
  let task: string | null = null;
  let lastUs = 0;
  try {
    for await (const m of rec.messages([Topic.state, Topic.command, Topic.episode])) {
      const w = { path: o.recording, topic: m.topic, logTimeNs: m.logTimeNs };
      if (m.topic === Topic.command) {
        const c = checkCommand(w, m.message, n);
        const v = (m.message as { velocity?: number[] }).velocity;
        sent = { mode: MODES[c.mode] ?? String(c.mode), position: c.target, velocity: Array.isArray(v) && v.length === n ? v : new Array<number>(n).fill(0), ageMs: 0 };
        sentUs = c.hostUs;
        continue;
      }
      if (m.topic === Topic.episode) {
        const e = checkEpisode(w, m.message);
        task = e.kind === 'start' ? e.task || e.taskId : e.kind === 'end' ? null : task;
        continue;
      }
      const s = checkState(w, m.message, n);
      if (nextUs === null) {
        nextUs = s.hostUs;
        firstUs = s.hostUs;
      }
      lastUs = s.hostUs;
      if (s.hostUs < nextUs) continue;
      nextUs += periodUs * Math.max(1, Math.floor((s.hostUs - nextUs) / periodUs) + 1);
      if (Number.isFinite(speed)) {
        const dueMs = (s.hostUs - firstUs) / 1000 / speed - (performance.now() - wall0);
        if (dueMs > 1) await sleep(dueMs);
      }
      const summary: StateSummary = {
        v: 1, robot, at: Date.now(), seq: published,
        safety: { state: 'replay', latched: false },
        sent: sent === null ? null : { ...sent, ageMs: Math.max(0, (s.hostUs - sentUs) / 1000) },
        link: { state: 'replay' },
        fleetLatch: false,
        measured: { position: s.position, velocity: s.velocity },
        task,
      };
      await client.publishAsync(topic, encodePayload(StateSummarySchema.parse(summary)), { qos: 0 });
      published++;
    }
  } finally {
    await client.endAsync();
    await rec.close();
  }
  return { topic, published, recordedS: (lastUs - firstUs) / 1e6 };
}
