/**
 * The fields of the robot's MQTT state summary that are computed from the edge's state: rounded to
 * the published precision, null where a value is not (yet) known or not finite (the schema would
 * refuse the whole summary for one bad number). Called at telemetry rate (10-50 Hz), never on the
 * control tick or the serial path.
 */
import { Valid } from '../estimation/estimation-flags.js';
import type { Observation } from '../estimation/observation.js';
import { yawOf } from '../estimation/quat-math.js';
import type { SummaryBody } from './ports.js';

const MODE_NAMES = ['disable', 'hold', 'position', 'velocity', 'current'];

/**
 * Published precision of the state summary, as the inverse of its step: 1e-4 rad (and rad/s of the
 * base rate), 1e-3 rad/s of a joint, 1e-3 m/s², 1 µs. Finer digits are noise on a dashboard and
 * would nearly double the payload at 10-50 Hz per robot.
 */
const RAD = 1e4;
const JOINT_RATE = 1e3;
const ACCEL = 1e3;
const MS = 1e3;
/** The schema's bound on the task string (UTF-16 units). */
const TASK_MAX = 200;

/** `x` as a multiple of 1/inv (inv an integer power of ten): dividing by the integer gives the double
 * nearest k/inv, whose shortest JSON form has no more decimals than the step. */
function rounded(x: number, inv: number): number {
  return Math.round(x * inv) / inv;
}

function roundedArray(src: ArrayLike<number>, inv: number): number[] {
  const out = new Array<number>(src.length);
  for (let i = 0; i < src.length; i++) out[i] = rounded(src[i] as number, inv);
  return out;
}

function allFinite(src: ArrayLike<number>): boolean {
  for (let i = 0; i < src.length; i++) if (!Number.isFinite(src[i])) return false;
  return true;
}

/** Milliseconds, rounded, never negative; null stays null. */
export function msOrNull(ms: number | null): number | null {
  return ms === null || !Number.isFinite(ms) ? null : rounded(Math.max(0, ms), MS);
}

/** The summary's `measured`: null before the first STATE, while the estimator does not vouch for
 * the joint positions and velocities (validity: a NaN or absurd reading is replaced by a held or
 * derived value, which must not be shown as the measurement), or if a value is not finite (the
 * schema would refuse the whole summary for one). */
export function measuredOf(o: Observation): SummaryBody['measured'] {
  const vouched = Valid.JOINT_POSITION | Valid.JOINT_VELOCITY;
  if (o.sampleCount === 0 || (o.validity & vouched) !== vouched || !allFinite(o.position) || !allFinite(o.velocity)) return null;
  return { position: roundedArray(o.position, RAD), velocity: roundedArray(o.velocity, JOINT_RATE) };
}

/**
 * The summary's `imu`: ZYX Euler angles of the published orientation (w,x,y,z, base → world), the
 * base rate and the calibrated accelerometer. Null without an IMU, and while the orientation is
 * not valid (none yet, or a fault: the held values would show a frozen attitude as live).
 */
export function imuOf(o: Observation, accel: Float64Array | null): SummaryBody['imu'] {
  if (accel === null || (o.validity & Valid.ORIENTATION) === 0) return null;
  const q = o.orientation;
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  const g = o.angularRate;
  const roll = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const pitch = Math.asin(Math.min(1, Math.max(-1, 2 * (w * y - z * x))));
  const yaw = yawOf(q);
  if (!Number.isFinite(roll + pitch + yaw) || !allFinite(g) || !allFinite(accel)) return null;
  return {
    roll: rounded(roll, RAD), pitch: rounded(pitch, RAD), yaw: rounded(yaw, RAD),
    gyro: [rounded(g[0] as number, RAD), rounded(g[1] as number, RAD), rounded(g[2] as number, RAD)],
    accel: [rounded(accel[0] as number, ACCEL), rounded(accel[1] as number, ACCEL), rounded(accel[2] as number, ACCEL)],
  };
}

/** The summary's `safety`: the supervisor's state and latch, as the dashboard shows them. */
export function safetyOf(sup: { readonly state: string; readonly latchedCause: string | null; readonly mcuLatch?: 'latched' | 'clear' | 'unknown' }): SummaryBody['safety'] {
  const cause = sup.latchedCause;
  // mcuLatched mirrors the MCU's own latch flags as last seen in STATE (what confirms an e-stop on
  // the dashboard); left out while the host has not seen a STATE since the link or MCU restarted.
  const mcu = sup.mcuLatch === undefined || sup.mcuLatch === 'unknown' ? {} : { mcuLatched: sup.mcuLatch === 'latched' };
  return { state: sup.state, latched: cause !== null, ...(cause !== null ? { cause } : {}), ...mcu } as SummaryBody['safety'];
}

/** Tracking and jitter (rad, rad/s) at the summary's precision; null stays null. */
export function motionOf(trackingRad: number | null, jitterRadS: number | null): { trackingRad: number | null; jitterRadS: number | null } {
  const r = (x: number | null, inv: number): number | null => (x === null || !Number.isFinite(x) ? null : rounded(Math.max(0, x), inv));
  return { trackingRad: r(trackingRad, RAD), jitterRadS: r(jitterRadS, JOINT_RATE * 10) };
}

/** At most TASK_MAX UTF-16 units (the schema's measure), never cut inside a surrogate pair. */
export function clipTask(s: string): string {
  if (s.length <= TASK_MAX) return s;
  const last = s.charCodeAt(TASK_MAX - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? TASK_MAX - 1 : TASK_MAX);
}

/** The last command written to the wire, or null before the first. */
export function sentOf(s: { count: number; mode: number; position: ArrayLike<number>; velocity: ArrayLike<number>; atUs: number }, nowUs: number): SummaryBody['sent'] {
  if (s.count === 0) return null;
  return { mode: MODE_NAMES[s.mode] ?? String(s.mode), position: roundedArray(s.position, RAD), velocity: roundedArray(s.velocity, JOINT_RATE), ageMs: rounded(Math.max(0, (nowUs - s.atUs) / 1000), MS) };
}
