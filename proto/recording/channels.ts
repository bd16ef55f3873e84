/**
 * The flight recorder's channels: one topic per kind of message, each with a JSON Schema, written
 * to MCAP by the edge's recorder and served live over the Foxglove WebSocket protocol with the same
 * topics and schemas, so a recording and a live view look the same in Foxglove. `spinal dataset`
 * reads them back.
 *
 * Encoding: JSON (`messageEncoding: 'json'`, `schemaEncoding: 'jsonschema'`), which Foxglove decodes
 * without a plugin and which every reader of MCAP can parse. Units are SI (rad, rad/s, A, m/s²);
 * times are microseconds on the host's clock (`hostUs`, the edge's monotonic time base) plus the
 * MCAP log time, nanoseconds since the Unix epoch, taken from the same clock.
 *
 * Compatibility: `RECORDING_SCHEMA_VERSION` is written into the file's `spinal.recording` metadata
 * record. Adding a field is compatible; renaming or removing one, or changing a unit, bumps it.
 */

/** The MCAP header's profile for Spinal recordings. */
export const RECORDING_PROFILE = 'spinal';
export const RECORDING_LIBRARY = 'spinal-recorder';
export const RECORDING_SCHEMA_VERSION = 1;
/** Name of the MCAP metadata record that describes the robot (see RecordingMetadata). */
export const RECORDING_METADATA_NAME = 'spinal.recording';

export const Topic = {
  /** Every STATE frame from the MCU, at its full rate, in SI units. */
  state: '/spinal/state',
  /** Every COMMAND actually written on the wire (after the gate and the limits). */
  command: '/spinal/command',
  /** The state estimator's output (filtered joints, body orientation). */
  estimate: '/spinal/estimate',
  /** Observations sent to the brain (images by reference: camera id and sequence, not bytes). */
  observation: '/spinal/observation',
  /** Plans received from the brain (latent or action chunk), with their validity. */
  plan: '/spinal/plan',
  /** Action chunks as executed (decoded from a latent, or received as joint targets). */
  chunk: '/spinal/chunk',
  /** Chunk switching decisions (crossfade, ensemble, stale chunk refused, …). */
  switching: '/spinal/switching',
  /** Safety transitions and events (state changes, e-stops, refusals, faults). */
  safety: '/spinal/safety',
  /** Serial and cloud link health (counters, round trip, shed commands). */
  link: '/spinal/link',
  /** Episode boundaries and operator marks. */
  episode: '/spinal/episode',
} as const;

export type TopicName = (typeof Topic)[keyof typeof Topic];

/** A camera's frames: `foxglove.CompressedImage` (JSON, `data` base64), one topic per camera. */
export function cameraTopic(cameraId: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(cameraId)) throw new RangeError(`camera id ${JSON.stringify(cameraId)} must be 1–64 of [A-Za-z0-9_.-]`);
  return `/spinal/camera/${cameraId}`;
}
export const CAMERA_SCHEMA_NAME = 'foxglove.CompressedImage';

/** `spinal.recording` metadata (MCAP metadata values are strings; arrays are JSON-encoded). */
export interface RecordingMetadata {
  schemaVersion: number;
  robotId: string;
  profile: string;
  /** Joint names in the order of every `position`/`velocity`/`target` array. JSON array. */
  jointNames: string[];
  /** The MCU's STATE rate, Hz. */
  stateRateHz: number;
  /** The control loop's COMMAND rate, Hz. */
  controlRateHz: number;
  cameraIds: string[];
  edgeVersion: string;
}

/** `/spinal/state`: one STATE frame. */
export interface StateRecord {
  hostUs: number;
  /** The MCU's timestamp of the sample, µs on the MCU clock. */
  mcuUs: number;
  seq: number;
  status: number;
  faults: number;
  position: number[];
  velocity: number[];
  current: number[];
  /** Present when the frame carries IMU data. */
  imu?: { accel: [number, number, number]; gyro: [number, number, number]; quat?: [number, number, number, number] };
}

/** `/spinal/command`: one COMMAND as written on the wire. */
export interface CommandRecord {
  hostUs: number;
  seq: number;
  mode: number;
  /** Target joint positions, rad. */
  target: number[];
  /** Target or feed-forward velocity, rad/s. */
  velocity: number[];
}

export type EpisodeOutcome = 'success' | 'failure' | 'intervention' | 'estop' | 'aborted';

/**
 * `/spinal/episode`: `start` opens episode `index` (its task), `end` closes it with an outcome, and
 * `mark` is an operator's mark inside it. An e-stop ends the open episode with outcome `estop`.
 */
export interface EpisodeRecord {
  hostUs: number;
  kind: 'start' | 'end' | 'mark';
  index: number;
  taskId: string;
  task: string;
  outcome?: EpisodeOutcome;
  note?: string;
  /** Who: 'task' (the brain's task changed), an operator id, or 'safety'. */
  source: string;
}

/** JSON Schemas for the channels whose shape other tools rely on. */
export const SCHEMAS: Record<string, { name: string; schema: object }> = {
  [Topic.state]: {
    name: 'spinal.State',
    schema: {
      type: 'object',
      required: ['hostUs', 'mcuUs', 'seq', 'status', 'faults', 'position', 'velocity', 'current'],
      properties: {
        hostUs: { type: 'number' }, mcuUs: { type: 'number' }, seq: { type: 'integer' },
        status: { type: 'integer' }, faults: { type: 'integer' },
        position: { type: 'array', items: { type: 'number' } },
        velocity: { type: 'array', items: { type: 'number' } },
        current: { type: 'array', items: { type: 'number' } },
        imu: {
          type: 'object',
          properties: {
            accel: { type: 'array', items: { type: 'number' } },
            gyro: { type: 'array', items: { type: 'number' } },
            quat: { type: 'array', items: { type: 'number' } },
          },
        },
      },
    },
  },
  [Topic.command]: {
    name: 'spinal.Command',
    schema: {
      type: 'object',
      required: ['hostUs', 'seq', 'mode', 'target', 'velocity'],
      properties: {
        hostUs: { type: 'number' }, seq: { type: 'integer' }, mode: { type: 'integer' },
        target: { type: 'array', items: { type: 'number' } },
        velocity: { type: 'array', items: { type: 'number' } },
      },
    },
  },
  [Topic.episode]: {
    name: 'spinal.Episode',
    schema: {
      type: 'object',
      required: ['hostUs', 'kind', 'index', 'taskId', 'task', 'source'],
      properties: {
        hostUs: { type: 'number' },
        kind: { type: 'string', enum: ['start', 'end', 'mark'] },
        index: { type: 'integer' }, taskId: { type: 'string' }, task: { type: 'string' },
        outcome: { type: 'string', enum: ['success', 'failure', 'intervention', 'estop', 'aborted'] },
        note: { type: 'string' }, source: { type: 'string' },
      },
    },
  },
};

/** Schema for a channel without a fixed shape: any JSON object, named after its topic. */
export function schemaFor(topic: string): { name: string; schema: object } {
  return SCHEMAS[topic] ?? { name: `spinal.${topic.split('/').pop() ?? 'message'}`, schema: { type: 'object' } };
}

/**
 * Where recorded messages go: the recorder (MCAP) and the live view (Foxglove WebSocket) both take
 * them through this. `publish` must not block and must not throw on the caller: it is called from
 * the daemon's main thread, next to the safety logic.
 */
export interface RecordingSink {
  publish(topic: string, logTimeNs: bigint, message: object): void;
}

/** What the recorder reports about itself (state summaries, the dashboard, `spinal dataset inspect`). */
export interface RecorderStatus {
  /** Full recording on (the black-box ring runs whenever the recorder exists). */
  recording: boolean;
  /** Bytes of recordings on disk in the recording directory, and the quota they are kept under. */
  diskBytes: number;
  quotaBytes: number;
  files: number;
  /** The open episode's index, or null between episodes. */
  episode: number | null;
  /** Black-box saves made since start (e-stops and faults with full recording off). */
  blackBoxSaves: number;
  /** Messages dropped because the writer fell behind (the control path never waits for it). */
  dropped: number;
  /** Why recording stopped, when it did (disk error, quota too small for one file…). */
  error: string | null;
}

/** An operator's mark on the open episode, from the dashboard. */
export interface EpisodeMarkRequest {
  outcome: 'success' | 'failure' | 'intervention';
  /** End the episode with this outcome (true) or only mark it (false). */
  end: boolean;
  note?: string;
  operator: string;
}

/** The answer to an EpisodeMarkRequest: refused between episodes or for a bad outcome, naming why. */
export type EpisodeMarkResult = { accepted: true; episode: number } | { accepted: false; reason: string };

/**
 * The recorder as the MQTT side and the dashboard reach it (the edge daemon's `recorder`): its
 * status for state summaries, and operators' marks on the open episode. Marks work without a
 * recorder too (they go on `/spinal/episode` to the live view); `status()` is null then.
 */
export interface RecorderPort {
  status(): RecorderStatus | null;
  mark(req: EpisodeMarkRequest): EpisodeMarkResult;
}
