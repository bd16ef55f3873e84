/**
 * Conversions between the wire's MCU-native units and joint units, from a joint's profile.
 *
 * Multi-turn encoder (singleTurn false):
 *   rad    = direction * (counts - zeroOffsetCounts) * 2π / (countsPerRev * gearRatio)
 *   counts = round(direction * rad * countsPerRev * gearRatio / 2π) + zeroOffsetCounts
 *
 * Single-turn absolute encoder on the joint output (singleTurn true; the profile guarantees
 * gearRatio 1, 0 <= zeroOffsetCounts < countsPerRev and limits inside (-π, π)):
 *   counts = mod(round(direction * rad * countsPerRev / 2π) + zeroOffsetCounts, countsPerRev),
 *            always in 0..countsPerRev-1, as the sensor reports it;
 *   rad    = direction * wrap(counts - zeroOffsetCounts) * 2π / countsPerRev, where wrap() takes
 *            the difference modulo countsPerRev into [-countsPerRev/2, countsPerRev/2), so any
 *            integer (wrapped or not) maps to the angle nearest the zero, within one turn.
 *
 * Rates carry no offset and never wrap: rad/s = direction * counts/s * 2π / (countsPerRev * gearRatio).
 * Current is signed in the joint's positive direction: torque (Nm) = torqueConstant * current (A).
 *
 * Round trip: countsToRad(radToCounts(rad)) differs from rad by at most half a count
 * (π / (countsPerRev * gearRatio) rad) for any rad within the joint's limits.
 * All functions are allocation-free.
 */
import type { JointProfile } from './profile-types.js';

const TWO_PI = 2 * Math.PI;

/** Counts per joint radian, always positive. */
export function countsPerRad(joint: JointProfile): number {
  return (joint.encoder.countsPerRev * joint.encoder.gearRatio) / TWO_PI;
}

/** Mathematical modulo: result in [0, n) for n > 0. */
function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

/** Encoder counts (as reported by the MCU) → joint angle in rad. */
export function countsToRad(joint: JointProfile, counts: number): number {
  const enc = joint.encoder;
  let delta = counts - enc.zeroOffsetCounts;
  if (enc.singleTurn) {
    const cpr = enc.countsPerRev;
    delta = mod(delta + cpr / 2, cpr) - cpr / 2;
  }
  return (enc.direction * delta) / countsPerRad(joint);
}

/** Joint angle in rad → the integer counts the encoder reports at that angle (nearest count;
 * wrapped into 0..countsPerRev-1 for a single-turn encoder). */
export function radToCounts(joint: JointProfile, rad: number): number {
  const enc = joint.encoder;
  const counts = Math.round(enc.direction * rad * countsPerRad(joint)) + enc.zeroOffsetCounts;
  return enc.singleTurn ? mod(counts, enc.countsPerRev) : counts;
}

/** Encoder rate in counts/s → joint velocity in rad/s. */
export function cpsToRadPerSec(joint: JointProfile, cps: number): number {
  return (joint.encoder.direction * cps) / countsPerRad(joint);
}

/** Joint velocity in rad/s → encoder rate in counts/s (not rounded: the wire carries f32). */
export function radPerSecToCps(joint: JointProfile, radPerSec: number): number {
  return joint.encoder.direction * radPerSec * countsPerRad(joint);
}

/** Motor current in A → joint torque in Nm. */
export function currentToTorque(joint: JointProfile, amps: number): number {
  return amps * joint.torqueConstant;
}

/** Joint torque in Nm → motor current in A. */
export function torqueToCurrent(joint: JointProfile, torqueNm: number): number {
  return torqueNm / joint.torqueConstant;
}
