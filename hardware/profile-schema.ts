/**
 * Shape and per-field ranges of a robot profile (zod). Rules that relate two fields (min < max,
 * poses within limits, unique names, encoder consistency) live in `profile-checks.ts`.
 * Objects are strict: an unknown key is refused, so a misspelt field never passes silently.
 */
import { z } from 'zod';
import type { RobotProfile } from './profile-types.js';

/** Joints per robot: the wire's joint_count is a u8 and its fault mask a u32. */
export const MAX_JOINTS = 32;
/** Length of the wire HELLO's profile_id field. */
export const PROFILE_ID_MAX_LENGTH = 24;

const finite = z.number();
const positive = z.number().gt(0);
const nonNegative = z.number().gte(0);
const uint = (max: number) => z.number().int().gte(0).lte(max);

const encoder = z.strictObject({
  countsPerRev: z.number().int().gt(0).lte(2 ** 30),
  gearRatio: positive,
  direction: z.literal([1, -1]),
  zeroOffsetCounts: z.number().int().gte(-(2 ** 31)).lte(2 ** 31 - 1),
  singleTurn: z.boolean(),
});

const limits = z.strictObject({
  positionMin: finite,
  positionMax: finite,
  velocityMax: positive,
  accelerationMax: positive,
  currentMax: positive,
});

const servo = z.strictObject({
  // Above ~200 Hz the model is no longer a servo drive, and the plant's sub-steps would get tiny.
  naturalFrequencyHz: positive.lte(200),
  dampingRatio: positive.lte(5),
});

const joint = z.strictObject({
  name: z.string().min(1).max(64),
  kind: z.enum(['revolute', 'gripper']),
  encoder,
  limits,
  torqueConstant: positive,
  servo,
});

const imu = z.strictObject({
  accelNoiseStd: nonNegative,
  gyroNoiseStd: nonNegative,
  gyroBias: z.tuple([finite, finite, finite]),
  accelScale: positive,
  mount: z.tuple([finite, finite, finite, finite]),
  fusedOrientation: z.boolean(),
  rateHz: positive.lte(10_000),
});

const serial = z.strictObject({
  baudRate: z.number().int().gt(0),
  stateRateHz: z.number().int().gte(1).lte(1000),
  watchdogMs: z.number().int().gte(1).lte(65_535),
});

const firmware = z.strictObject({ major: uint(255), minor: uint(255), patch: uint(65_535) });

export const robotProfileSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(PROFILE_ID_MAX_LENGTH)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII'),
  name: z.string().min(1),
  joints: z.array(joint).min(1).max(MAX_JOINTS),
  imu: imu.nullable(),
  serial,
  poses: z.record(z.string().min(1), z.array(finite)),
  firmware,
});

// Compile-time proof that the schema's output is the documented RobotProfile type.
const _schemaMatchesType: z.ZodType<RobotProfile> = robotProfileSchema;
void _schemaMatchesType;
