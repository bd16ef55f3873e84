/**
 * MQTT payloads: UTF-8 JSON, version field `v: 1`, validated with zod at the receiver.
 * JSON rather than protobuf: the dashboard reads it in a browser without a codec, operators can
 * read and send it with mosquitto_pub/sub, it needs nothing from MQTT 5, and the messages are small:
 * a state summary of 12 joints is about 850 bytes (quadruped12 moving, measured: 840 without a
 * task, 920 with an 85-character one; about 1.2 kB at most with a 200-character task), 7 joints
 * about 650-730, at 10-50 Hz per robot. That holds because the edge rounds what it publishes (to
 * 1e-4 rad, 1e-3 rad/s of a joint, 1e-3 m/s², 1 µs); full-precision doubles would nearly double it.
 */
import { z } from 'zod';

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/);
const Id = z.string().min(1).max(64);
/** Wall-clock milliseconds since the epoch. */
const EpochMs = z.number().int().nonnegative();
export const StopCategorySchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);
export type StopCategory = z.infer<typeof StopCategorySchema>;

/** An operator's e-stop. On the fleet topic it is published retained: the fleet latch. */
export const EstopCommandSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('estop'),
  id: Id,
  category: StopCategorySchema,
  operator: Name,
  at: EpochMs,
  reason: z.string().max(200).optional(),
});
export type EstopCommand = z.infer<typeof EstopCommandSchema>;

/**
 * Releases the retained fleet latch (published retained in place of the e-stop). It clears no
 * robot's latch: each robot still needs an authorised reset.
 */
export const EstopReleaseSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('release'),
  id: Id,
  operator: Name,
  at: EpochMs,
});
export type EstopRelease = z.infer<typeof EstopReleaseSchema>;

export const EstopTopicMessageSchema = z.discriminatedUnion('kind', [EstopCommandSchema, EstopReleaseSchema]);

export const ResetWhatSchema = z.enum(['estop', 'faults', 'watchdog']);
export const ResetCommandSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('reset'),
  id: Id,
  /** Must equal the sender's username in the topic (the broker vouches for that one); a mismatch is refused. */
  operator: Name,
  /** Ignored: older dashboards send the role they claim. Only the broker's ACL decides who may send this. */
  role: z.enum(['operator', 'viewer', 'robot']).optional(),
  at: EpochMs,
  what: z.array(ResetWhatSchema).min(1).max(3).optional(),
});
export type ResetCommand = z.infer<typeof ResetCommandSchema>;

/**
 * Starts or continues motion of one robot (IDLE|HOLD → ACTIVE in its supervisor). Like a reset:
 * one robot only, never retained, operators only; the supervisor still needs a fresh plan.
 */
export const ResumeCommandSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('resume'),
  id: Id,
  /** Must equal the sender's username in the topic (the broker vouches for that one); a mismatch is refused. */
  operator: Name,
  /** Ignored: older dashboards send the role they claim. Only the broker's ACL decides who may send this. */
  role: z.enum(['operator', 'viewer', 'robot']).optional(),
  at: EpochMs,
});
export type ResumeCommand = z.infer<typeof ResumeCommandSchema>;

export const HeartbeatSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('heartbeat'),
  operator: Name,
  at: EpochMs,
  seq: z.number().int().nonnegative().optional(),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** Retained on `<robot>/status`: online on connect (birth), offline from the will or a clean stop. */
export const RobotStatusSchema = z.strictObject({
  v: z.literal(1),
  robot: Name,
  online: z.boolean(),
  at: EpochMs,
  reason: z.string().max(200).optional(),
  software: z.string().max(64).optional(),
});
export type RobotStatus = z.infer<typeof RobotStatusSchema>;

/** z.number() refuses NaN and ±Infinity (zod 4), so every number below is finite. */
const FiniteArray = z.array(z.number()).max(64);
const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
/** Milliseconds, or null when the statistic has no sample (or no source) yet. */
const MsOrNull = z.number().nonnegative().nullable();
/**
 * The state summary: what was actually sent to the motors, what was measured, the safety state,
 * the link's health and the loop's timing. The fields after `fleetLatch` are optional so that a
 * receiver accepts a summary from an older edge; the edge always sends them.
 */
export const StateSummarySchema = z.strictObject({
  v: z.literal(1),
  robot: Name,
  at: EpochMs,
  seq: z.number().int().nonnegative(),
  safety: z.strictObject({
    state: z.string().max(32),
    /** The supervisor's latch (ESTOP or FAULT). */
    latched: z.boolean(),
    cause: z.string().max(200).optional(),
    /**
     * The MCU's own latch, from the latest STATE it sent (ESTOP_LATCHED or WATCHDOG_TRIPPED): what
     * the dashboard needs before it calls an e-stop confirmed. Absent from older edges.
     */
    mcuLatched: z.boolean().optional(),
  }),
  /** The last COMMAND written to the wire (after clamping), or null when none went out yet. */
  sent: z.strictObject({
    mode: z.string().max(16),
    position: FiniteArray,
    velocity: FiniteArray,
    ageMs: z.number().nonnegative(),
  }).nullable(),
  link: z.strictObject({
    state: z.string().max(32),
    rxFrames: z.number().int().nonnegative().optional(),
    errors: z.number().int().nonnegative().optional(),
    lastFrameAgeMs: z.number().nonnegative().nullable().optional(),
  }),
  fleetLatch: z.boolean(),
  /** The state estimator's latest snapshot: joint positions (rad) and velocities (rad/s); null before the first STATE. */
  measured: z.strictObject({
    position: FiniteArray,
    velocity: FiniteArray,
  }).nullable().optional(),
  /**
   * The estimator's base orientation as ZYX Euler angles (rad; yaw relative to where the estimator
   * started unless the MCU fuses a heading), base angular rate without gyro bias (rad/s) and
   * calibrated specific force (m/s², includes gravity), all in the base frame. Null when the
   * profile has no IMU or the orientation is not valid now (none yet, or an IMU fault).
   */
  imu: z.strictObject({
    roll: z.number(),
    pitch: z.number(),
    yaw: z.number(),
    gyro: Vec3,
    accel: Vec3,
  }).nullable().optional(),
  metrics: z.strictObject({
    /** p99 (nearest rank) of the control tick's wake-up lateness over its last ~2 s of ticks. */
    loopLatenessP99Ms: MsOrNull,
    /** Decode time of the latest action chunk, in the decoder's worker. */
    decoderMs: MsOrNull,
    /** Observation sent → plan received, the latest while a brain session is up; null otherwise. */
    cloudLatencyMs: MsOrNull,
    /** Age of the plan in use, from the capture of the observation it answers; null when none is valid. */
    planAgeMs: MsOrNull,
    /** Max over joints of the RMS of sent - measured position over the last ~1-2 s, rad; optional
     * (older edges do not send it), null when unknown. */
    trackingRad: z.number().nonnegative().nullable().optional(),
    /** Max over joints of the std of the sent velocity over the same window, rad/s: at rest, the
     * commanded velocity RMS (a trembling robot shows here). */
    jitterRadS: z.number().nonnegative().nullable().optional(),
    /** What drives the robot: the plan in use carries a latent (decoded on the edge) or an action
     * chunk (from a policy server, executed as is); null when no plan is valid; optional (older edges). */
    planKind: z.enum(['latent', 'action-chunk']).nullable().optional(),
  }).optional(),
  /** The instruction the brain last reported for this robot; null when none. */
  task: z.string().max(200).nullable().optional(),
  /**
   * The flight recorder (edge/recording): full recording on, bytes of recordings on disk and the
   * quota, files, the open episode, black boxes saved, messages dropped because the writer fell
   * behind, and why recording stopped. Null when the robot has no recorder; optional (older edges).
   */
  recorder: z.strictObject({
    recording: z.boolean(),
    diskBytes: z.number().int().nonnegative(),
    quotaBytes: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
    episode: z.number().int().positive().nullable(),
    blackBoxSaves: z.number().int().nonnegative(),
    dropped: z.number().int().nonnegative(),
    error: z.string().max(300).nullable(),
  }).nullable().optional(),
});
export type StateSummary = z.infer<typeof StateSummarySchema>;

/**
 * Every safety event carries two clocks, one per field, never mixed:
 * - `wallMs`: the edge's wall clock, epoch ms, for people (what time it happened); it may jump
 *   when the clock is set, so it orders nothing;
 * - `monoUs`: the edge's monotonic clock, µs since an arbitrary origin (the process's start), for
 *   ordering and intervals between events of one robot; it never goes backwards while the
 *   process lives and means nothing across robots or restarts.
 * `seq` orders the events of one MQTT session of the robot.
 */
const EventBase = {
  v: z.literal(1), robot: Name, seq: z.number().int().nonnegative(),
  wallMs: EpochMs,
  monoUs: z.number().int().nonnegative(),
};
export const SafetyEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...EventBase, kind: z.literal('transition'), from: z.string(), to: z.string(), cause: z.string(), source: z.string(), detail: z.string().max(500).optional() }),
  z.strictObject({
    ...EventBase, kind: z.literal('estop-received'), scope: z.enum(['robot', 'fleet']), category: StopCategorySchema,
    malformed: z.boolean(), wireSent: z.boolean(), id: z.string().optional(), operator: z.string().optional(), problem: z.string().optional(),
  }),
  z.strictObject({ ...EventBase, kind: z.literal('fleet-latch'), asserted: z.boolean(), operator: z.string().optional() }),
  /** Events the robot could not keep while the broker was away (bounded outbox), sent first on reconnect. */
  z.strictObject({ ...EventBase, kind: z.literal('events-dropped'), dropped: z.number().int().positive(), droppedStop: z.number().int().nonnegative(), kinds: z.record(z.string(), z.number().int().positive()) }),
  z.strictObject({ ...EventBase, kind: z.literal('reset-refused'), reason: z.string(), id: z.string().optional(), operator: z.string().optional() }),
  z.strictObject({ ...EventBase, kind: z.literal('reset-accepted'), id: z.string(), operator: z.string() }),
  z.strictObject({ ...EventBase, kind: z.literal('resume-refused'), reason: z.string(), id: z.string().optional(), operator: z.string().optional() }),
  z.strictObject({ ...EventBase, kind: z.literal('resume-accepted'), id: z.string(), operator: z.string() }),
  z.strictObject({ ...EventBase, kind: z.literal('deadman-expired'), timeoutMs: z.number(), lastHeartbeatAgeMs: z.number().nullable() }),
  /** The broker connection was down for longer than `timeoutMs`: the remote e-stop channel failed, the robot stopped with `category`. */
  z.strictObject({ ...EventBase, kind: z.literal('mqtt-link-lost'), timeoutMs: z.number().nonnegative(), downForMs: z.number().nonnegative(), category: StopCategorySchema }),
  /** A stop requested while the robot was already latched: no transition, but it counts (a reset already on the wire does not clear it). */
  z.strictObject({ ...EventBase, kind: z.literal('stop-while-latched'), cause: z.string(), source: z.string() }),
  /** A HOLD's cause changed to one that needs an operator's resume (e.g. the MCU restarted while held). */
  z.strictObject({ ...EventBase, kind: z.literal('hold-cause'), cause: z.string(), source: z.string(), detail: z.string().max(500) }),
  /** What the host knows of the MCU's own latch changed: 'unknown' until a STATE after a link or MCU restart. */
  z.strictObject({ ...EventBase, kind: z.literal('mcu-latch'), latch: z.enum(['latched', 'clear', 'unknown']), detail: z.string().max(500) }),
  /** The serial link changed state or refused the MCU. */
  z.strictObject({ ...EventBase, kind: z.literal('serial-link'), from: z.string(), to: z.string(), detail: z.string().max(500) }),
  // COMMANDs the serial link shed because the line was full (at most one event a second): `shed`
  // since the previous event, `windowMs` ago; `total` since the daemon started.
  z.strictObject({ ...EventBase, kind: z.literal('commands-shed'), shed: z.number().int().positive(), total: z.number().int().nonnegative(), windowMs: z.number().nonnegative() }),
]);
export type SafetyEvent = z.infer<typeof SafetyEventSchema>;
/** A safety event before the publisher stamps it (v, robot, seq and both clocks). */
export type SafetyEventBody = SafetyEvent extends infer E ? (E extends SafetyEvent ? Omit<E, 'v' | 'robot' | 'seq' | 'wallMs' | 'monoUs'> : never) : never;
