/**
 * The daemon's recording side, composed: the RecordingBus every producer publishes into, the taps
 * that feed it, the episode tracker, and (when `recording` is configured) the flight recorder
 * attached to the bus, with its black box saved on every e-stop and fault.
 */
import type { Logger } from 'pino';
import { RECORDING_SCHEMA_VERSION, type EpisodeMarkRequest, type EpisodeMarkResult, type RecorderPort, type RecorderStatus } from '../../proto/recording/channels.js';
import type { Clock } from '../clock.js';
import type { CloudLink } from '../cloud-link/cloud-link.js';
import { SafetyState } from '../safety/safety-state.js';
import type { RecordingConfig } from './recording-config.js';
import { RecordingBus } from './recording-bus.js';
import { RecordingClock, tapDaemon, type TapSources, type Taps } from './daemon-taps.js';
import { EpisodeTracker } from './episodes.js';
import { FlightRecorder } from './flight-recorder.js';

export interface DaemonRecording extends RecorderPort {
  /** Taps the cloud link and starts episodes on its tasks (it is made after the serial link). */
  attachCloud(cloud: CloudLink): void;
  readonly bus: RecordingBus;
  readonly recorder: FlightRecorder | null;
  readonly episodes: EpisodeTracker;
  readonly taps: Taps;
  /** Ends the open episode, publishes the last COMMANDs, closes the recorder's file. */
  close(): Promise<void>;
}

export interface RecordingMeta {
  robotId: string;
  stateRateHz: number;
  controlRateHz: number;
  cameraIds: string[];
  edgeVersion: string;
}

/** The recorder, started before the sources exist (it starts a thread); null when not configured. */
export async function startRecorder(cfg: RecordingConfig | undefined, profile: TapSources['profile'], meta: RecordingMeta): Promise<FlightRecorder | null> {
  if (cfg === undefined) return null;
  return FlightRecorder.start(cfg, {
    schemaVersion: RECORDING_SCHEMA_VERSION, robotId: meta.robotId, profile: profile.id,
    jointNames: profile.joints.map((j) => j.name), stateRateHz: meta.stateRateHz, controlRateHz: meta.controlRateHz,
    cameraIds: meta.cameraIds, edgeVersion: meta.edgeVersion,
  });
}

export function composeRecording(recorder: FlightRecorder | null, cfg: RecordingConfig | undefined, clock: Clock, sources: TapSources, logger: Logger): DaemonRecording {
  const bus = new RecordingBus((err) => logger.error({ err: (err as Error).message }, 'recording sink failed and was detached'));
  const time = new RecordingClock(clock);
  const taps = tapDaemon(bus, time, sources);
  const episodes = new EpisodeTracker(bus, () => time.nowUs(), (us) => time.logTimeNs(us));
  const detachRecorder = recorder !== null ? bus.attach(recorder) : () => undefined;
  if (recorder !== null) {
    recorder.episode = () => episodes.current;
    recorder.on('file', (e) => logger.info(e, 'recording file closed'));
    recorder.on('blackbox', (e) => (e.problem === null ? logger.warn(e, 'black box saved') : logger.error(e, 'black box not saved')));
    recorder.on('failed', (e) => logger.error(e, 'recording stopped'));
    logger.info({ dir: cfg?.dir, recording: cfg?.enabled, blackBoxSeconds: cfg?.blackBoxSeconds }, 'flight recorder started');
  }
  // After the taps' own listener: the transition is on the bus before the episode ends and the
  // black box is cut, so both contain it.
  const onTransition = (e: { to: SafetyState; cause: string; detail: string }): void => {
    if (e.to === SafetyState.ESTOP) episodes.onEstop(`${e.cause}: ${e.detail}`);
    // A stop for the daemon's own shutdown is no incident: no black box for it.
    if ((e.to === SafetyState.ESTOP || e.to === SafetyState.FAULT) && e.cause !== 'shutdown') recorder?.saveBlackBox(`${e.to}-${e.cause}`);
  };
  sources.supervisor.on('transition', onTransition);
  const onTask = (t: { taskId: string; instruction: string }): void => episodes.onTask(t.taskId, t.instruction);
  let cloud: CloudLink | null = null;
  let closing: Promise<void> | null = null;
  return {
    bus, recorder, episodes, taps,
    attachCloud(c: CloudLink): void {
      cloud = c;
      taps.attachCloud(c);
      c.on('task', onTask);
    },
    status: (): RecorderStatus | null => recorder?.status() ?? null,
    mark: (req: EpisodeMarkRequest): EpisodeMarkResult => episodes.mark(req),
    close(): Promise<void> {
      closing ??= (async () => {
        sources.supervisor.off('transition', onTransition);
        cloud?.off('task', onTask);
        episodes.close();
        taps.detach();
        detachRecorder();
        await recorder?.close();
      })();
      return closing;
    },
  };
}
