/**
 * Rules that relate fields of a schema-valid profile. Each returns issues rather than throwing so a
 * user sees every problem of a file at once.
 */
import { countsPerRad } from './calibration.js';
import type { ProfileIssue } from './profile-error.js';
import { issue, issueGot } from './profile-issues.js';
import type { RobotProfile } from './profile-types.js';

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
/** |‖q‖ - 1| above this is a typo, not rounding in a hand-written quaternion. */
const QUAT_NORM_TOLERANCE = 1e-3;

/** Bytes one STATE frame takes on the line, mirroring SPEC.md (§STATE, §framing): header 8, body
 * 12 + 12 per joint (+24 IMU, +16 orientation), CRC 4, COBS overhead 1 per 254, delimiter 1. */
export function stateFrameBytes(jointCount: number, imu: boolean, orientation: boolean): number {
  const packet = 8 + 12 + 12 * jointCount + (imu ? 24 : 0) + (orientation ? 16 : 0) + 4;
  return packet + Math.ceil((packet + 1) / 254) + 1;
}

export function crossFieldIssues(p: RobotProfile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  checkJoints(p, issues);
  checkPoses(p, issues);
  checkImu(p, issues);
  checkSerial(p, issues);
  return issues;
}

function checkJoints(p: RobotProfile, issues: ProfileIssue[]): void {
  const firstIndexOfName = new Map<string, number>();
  p.joints.forEach((j, i) => {
    const at = `joints[${i}]`;
    const earlier = firstIndexOfName.get(j.name);
    if (earlier !== undefined) issues.push(issueGot(`${at}.name`, `duplicates joints[${earlier}].name`, j.name));
    else firstIndexOfName.set(j.name, i);

    const { positionMin, positionMax } = j.limits;
    if (!(positionMin < positionMax)) {
      issues.push(issueGot(`${at}.limits.positionMin`, `must be < positionMax ${positionMax}`, positionMin));
    }

    const enc = j.encoder;
    // A single-turn encoder's gear ratio must be 1 (checked below); use 1 here so one mistake
    // gives one message.
    const perRad = enc.singleTurn ? enc.countsPerRev / (2 * Math.PI) : countsPerRad(j);
    for (const [field, rad] of [['positionMin', positionMin], ['positionMax', positionMax]] as const) {
      const counts = Math.round(enc.direction * rad * perRad);
      if (enc.singleTurn) {
        // The angle must stay strictly inside half a turn of the zero, or the wrap makes it ambiguous.
        if (!(Math.abs(counts) < enc.countsPerRev / 2)) {
          issues.push(issueGot(`${at}.limits.${field}`, 'must lie inside (-π, π) for a single-turn encoder', rad));
        }
      } else if (counts + enc.zeroOffsetCounts > INT32_MAX || counts + enc.zeroOffsetCounts < INT32_MIN) {
        issues.push(issueGot(`${at}.limits.${field}`, 'gives encoder counts outside the wire\'s int32 range', rad));
      }
    }
    if (enc.singleTurn) {
      if (enc.gearRatio !== 1) {
        issues.push(issueGot(`${at}.encoder.gearRatio`, 'must be 1 for a single-turn encoder (it sits on the joint output)', enc.gearRatio));
      }
      if (enc.zeroOffsetCounts < 0 || enc.zeroOffsetCounts >= enc.countsPerRev) {
        issues.push(issueGot(`${at}.encoder.zeroOffsetCounts`, `must be in 0..${enc.countsPerRev - 1} for a single-turn encoder`, enc.zeroOffsetCounts));
      }
    }
  });
}

function checkPoses(p: RobotProfile, issues: ProfileIssue[]): void {
  // Poses are only compared with limits that make sense (min < max); the limits' own message suffices.
  if (!Object.prototype.hasOwnProperty.call(p.poses, 'home')) issues.push(issue('poses.home', 'is missing'));
  for (const [name, pose] of Object.entries(p.poses)) {
    const at = /^[A-Za-z_$][\w$-]*$/.test(name) ? `poses.${name}` : `poses[${JSON.stringify(name)}]`;
    if (pose.length !== p.joints.length) {
      issues.push(issue(at, `must have ${p.joints.length} entries, one per joint (got ${pose.length})`));
      continue;
    }
    pose.forEach((q, i) => {
      const lim = p.joints[i]?.limits;
      if (lim !== undefined && lim.positionMin < lim.positionMax && (q < lim.positionMin || q > lim.positionMax)) {
        issues.push(issueGot(`${at}[${i}]`, `must lie within joints[${i}].limits [${lim.positionMin}, ${lim.positionMax}]`, q));
      }
    });
  }
}

function checkImu(p: RobotProfile, issues: ProfileIssue[]): void {
  if (p.imu === null) return;
  const [w, x, y, z] = p.imu.mount;
  const norm = Math.hypot(w, x, y, z);
  if (!(Math.abs(norm - 1) <= QUAT_NORM_TOLERANCE)) {
    issues.push(issueGot('imu.mount', `must be a unit quaternion w,x,y,z (norm ${norm.toPrecision(4)})`, p.imu.mount));
  }
}

function checkSerial(p: RobotProfile, issues: ProfileIssue[]): void {
  const bytes = stateFrameBytes(p.joints.length, p.imu !== null, p.imu?.fusedOrientation ?? false);
  const bitsPerSecond = bytes * 10 * p.serial.stateRateHz;
  if (bitsPerSecond > p.serial.baudRate) {
    issues.push(issueGot('serial.baudRate',
      `is too slow for ${p.serial.stateRateHz} STATE frames/s of ${bytes} bytes (needs >= ${bitsPerSecond})`, p.serial.baudRate));
  }
}
