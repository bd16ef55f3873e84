/**
 * The two handshake messages the host builds and the one check it makes: our HELLO, whether the
 * MCU's HELLO fits the configured robot profile, and the CONFIG derived from the profile.
 */
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, Role, newConfig, type ConfigMsg, type HelloMsg } from '../../proto/wire/index.js';
import { radPerSecToCps, radToCounts, type JointProfile, type RobotProfile } from '../../hardware/index.js';

export interface SoftwareVersion {
  major: number;
  minor: number;
  patch: number;
}

export function buildHostHello(profile: RobotProfile, software: SoftwareVersion): HelloMsg {
  return {
    protoMajor: PROTOCOL_MAJOR, protoMinor: PROTOCOL_MINOR,
    fwMajor: software.major, fwMinor: software.minor, fwPatch: software.patch,
    jointCount: profile.joints.length, role: Role.HOST, capabilities: 0,
    profileId: profile.id, deviceId: 0,
  };
}

/**
 * Why the MCU that sent `hello` must not be driven with `profile`, or null when it fits. Names
 * both sides of every mismatch; several mismatches are joined with "; ".
 */
export function checkMcuHello(hello: HelloMsg, profile: RobotProfile): string | null {
  const problems: string[] = [];
  if (hello.protoMajor !== PROTOCOL_MAJOR) {
    problems.push(`firmware speaks protocol ${hello.protoMajor}.${hello.protoMinor}, this edge speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`);
  }
  if (hello.jointCount !== profile.joints.length) {
    problems.push(`firmware reports ${hello.jointCount} joints, profile "${profile.id}" has ${profile.joints.length}`);
  }
  if (hello.profileId !== profile.id) {
    problems.push(`firmware is built for profile "${hello.profileId}", this edge is configured for "${profile.id}"`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

export interface CountLimits {
  posMin: number;
  posMax: number;
  /** Set when the joint's limits cannot be expressed as an ordered pair of encoder counts. */
  note?: string;
}

/**
 * A joint's position limits in encoder counts, ordered (posMin <= posMax) as CONFIG requires.
 * - A reversed joint (direction -1) maps positionMin to the larger count: the pair is swapped.
 * - A single-turn encoder reports counts modulo countsPerRev. The limit arc is contiguous in angle,
 *   but when it passes the sensor's wrap point (counts rolling over from countsPerRev-1 to 0) no
 *   ordered pair describes it; then the full sensor range is sent (the MCU does not clamp that
 *   joint's position) and `note` says so; the host's own clamp (DESIGN safety rule 3) still holds.
 * - Multi-turn counts beyond int32 are clamped to int32 (unreachable positions anyway).
 * radToCounts rounds to the nearest count, so a limit may lie half a count outside the rad limit.
 */
export function jointCountLimits(joint: JointProfile): CountLimits {
  const a = radToCounts(joint, joint.limits.positionMin);
  const b = radToCounts(joint, joint.limits.positionMax);
  const [lo, hi] = joint.encoder.direction > 0 ? [a, b] : [b, a];
  if (joint.encoder.singleTurn && lo > hi) {
    return {
      posMin: 0, posMax: joint.encoder.countsPerRev - 1,
      note: `joint "${joint.name}": limits ${joint.limits.positionMin}..${joint.limits.positionMax} rad are counts ${lo}..${hi} across the single-turn encoder's wrap at ${joint.encoder.countsPerRev}; MCU position clamp set to the full range`,
    };
  }
  return { posMin: Math.max(INT32_MIN, Math.min(lo, hi)), posMax: Math.min(INT32_MAX, Math.max(lo, hi)) };
}

/** CONFIG for the profile; `notes` collects joints whose limits could not be sent as they are. */
export function buildConfig(profile: RobotProfile, watchdogMs: number, stateRateHz: number, notes: string[] = []): ConfigMsg {
  const cfg = newConfig();
  cfg.watchdogMs = watchdogMs;
  cfg.stateRateHz = stateRateHz;
  cfg.jointCount = profile.joints.length;
  profile.joints.forEach((joint, j) => {
    const lim = jointCountLimits(joint);
    if (lim.note) notes.push(lim.note);
    cfg.posMin[j] = lim.posMin;
    cfg.posMax[j] = lim.posMax;
    // Rates are signed by direction; a limit is a magnitude.
    cfg.velMax[j] = Math.abs(radPerSecToCps(joint, joint.limits.velocityMax));
    cfg.currentMax[j] = joint.limits.currentMax;
  });
  return cfg;
}
