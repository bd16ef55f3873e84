/**
 * The edge daemon's configuration file (JSON), validated with every error naming its key.
 * Later capabilities (decoder, control, safety, MQTT, cloud link) add their own sections.
 */
import { z } from 'zod';
import { getProfile, listProfiles, type RobotProfile } from '../hardware/index.js';
import { describeIssues, readJsonFile } from '../proto/config/json-config.js';
import { LiveViewConfigSchema } from './live-view/live-view-config.js';
import { MqttConfigSchema } from './mqtt/mqtt-config.js';
import { RecordingConfigSchema } from './recording/recording-config.js';
import { SystemdConfigSchema } from './systemd/systemd-config.js';

const LogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

export const EdgeConfigSchema = z.strictObject({
  robot: z.strictObject({
    /** Fleet-unique robot id: MQTT topics, certificates and logs use it. */
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-", starting with a letter or digit'),
    profile: z.string().min(1),
  }),
  serial: z.strictObject({
    path: z.string().min(1),
    baudRate: z.number().int().positive().optional(),
    watchdogMs: z.number().int().min(10).max(60_000).optional(),
    /** STATE rate the MCU is asked for in CONFIG; default the profile's (1 kHz for the built-in ones). */
    stateRateHz: z.number().int().min(10).max(1000).optional(),
    handshakeTimeoutMs: z.number().int().min(50).max(60_000).optional(),
    /** The line is native USB CDC: its baud rate limits nothing, so the rates are not checked against it. */
    usbCdc: z.boolean().default(false),
    /**
     * When the configured rates do not fit the line (edge/serial/line-budget.ts): "refuse" to start,
     * "fit-command-rate" (lower control.rateHz to what fits, and say so), or "shed" (run at
     * control.rateHz and let the wire shed the COMMANDs that do not fit). STATE that does not fit
     * is always refused.
     */
    lineOverload: z.enum(['refuse', 'fit-command-rate', 'shed']).default('refuse'),
  }),
  log: z.strictObject({ level: LogLevel.default('info') }).default({ level: 'info' }),
  decoder: z.strictObject({
    /** "reference" builds the profile's reference decoder in memory; otherwise an .onnx path. */
    model: z.string().min(1).default('reference'),
    /** Execution providers in order of preference; the first that loads is used and reported. */
    providers: z.array(z.enum(['tensorrt', 'cuda', 'cpu'])).min(1).default(['cpu']),
    steps: z.number().int().min(1).max(100).optional(),
    sampler: z.enum(['ddpm', 'ddim', 'euler', 'heun']).optional(),
  }).default({ model: 'reference', providers: ['cpu'] }),
  control: z.strictObject({
    rateHz: z.number().int().min(1).max(1000).default(200),
    policy: z.enum(['hard', 'crossfade', 'ensemble', 'inpaint']).default('crossfade'),
    /** Time between rows of a decoded chunk (the decoder's action period); action chunks from a
     * policy server are resampled to it. */
    stepMs: z.number().min(1).max(1000).default(20),
    /** Rows of one chunk the schedule keeps; default the decoder's horizon. Action chunks from a
     * policy server usually cover more (π0: 50 rows at 50 Hz): set it to keep them whole. */
    chunkRows: z.number().int().min(1).max(1024).optional(),
    /** Decode latency assumed before any is measured. */
    initialLatencyMs: z.number().min(0).max(5000).default(30),
    /** A main event loop stall longer than this makes the tick thread hold the robot (it owns the wire). */
    mainStallBoundMs: z.number().int().min(10).max(10_000).default(100),
    /** µs before each tick at which the tick thread stops sleeping and polls the clock (0: never). */
    tickSpinUs: z.number().int().min(0).max(1000).default(0),
  }).default({ rateHz: 200, policy: 'crossfade', stepMs: 20, initialLatencyMs: 30, mainStallBoundMs: 100, tickSpinUs: 0 }),
  safety: z.strictObject({
    /** Operator dead-man: stop when no heartbeat arrives for this long; 0 turns it off. */
    deadmanTimeoutMs: z.number().int().min(0).max(60_000).default(0),
  }).default({ deadmanTimeoutMs: 0 }),
  cloud: z.strictObject({
    /** host:port of the brain. Plaintext only to a loopback address. */
    target: z.string().min(1),
    tls: z.strictObject({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1), serverName: z.string().min(1).optional() }).optional(),
    observationRateHz: z.number().min(5).max(30).default(10),
    /** Camera sources: "sim" renders the robot from its own state; "/dev/videoN" reads a V4L2 device. */
    cameras: z.array(z.string().min(1)).default([]),
    /** Frames are scaled to this size (aspect kept, padded) and JPEG-compressed again before
     * they are sent, in a worker thread; omit to send them as the camera makes them. */
    image: z.strictObject({
      width: z.number().int().min(8).max(4096),
      height: z.number().int().min(8).max(4096),
      quality: z.number().int().min(1).max(100).default(80),
    }).optional(),
  }).optional(),
  mqtt: MqttConfigSchema.optional(),
  /** The Foxglove live view (edge/live-view); absent: off. */
  liveView: LiveViewConfigSchema.optional(),
  systemd: SystemdConfigSchema.default({ stopTimeoutMs: 3000 }),
  /** Flight recorder (edge/recording): absent, no recorder; see recording-config.ts. */
  recording: RecordingConfigSchema.optional(),
}).refine((c) => c.robot.id !== 'all', { message: '"all" is reserved for fleet-wide topics', path: ['robot', 'id'] });

export type EdgeConfigFile = z.infer<typeof EdgeConfigSchema>;
export interface EdgeConfig extends EdgeConfigFile {
  profileData: RobotProfile;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a parsed configuration object; `source` names it in errors (a file path). */
export function parseEdgeConfig(raw: unknown, source: string): EdgeConfig {
  const r = EdgeConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`config ${source}: ${describeIssues(r.error, raw)}`);
  }
  let profileData: RobotProfile;
  try {
    profileData = getProfile(r.data.robot.profile);
  } catch {
    throw new ConfigError(`config ${source}: robot.profile: unknown profile ${JSON.stringify(r.data.robot.profile)} (known: ${listProfiles().join(', ')})`);
  }
  return { ...r.data, profileData };
}

export function loadEdgeConfig(path: string): EdgeConfig {
  const file = readJsonFile(path);
  if (!file.ok) throw new ConfigError(`config ${path}: ${file.problem}`);
  return parseEdgeConfig(file.value, path);
}
