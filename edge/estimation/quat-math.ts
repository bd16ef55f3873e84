/**
 * The estimator's quaternion operations beyond hardware/quaternion.ts (multiply, normalise,
 * rotate, integrate live there): w,x,y,z (Hamilton), allocation-free; `q_ab` rotates frame-b
 * vectors into frame a: v_a = q_ab ⊗ v_b ⊗ q_ab*.
 */

/** out = a ⊗ b* (b's inverse applied first, then a). */
export function quatMulConj(out: Float64Array, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const aw = a[0] as number, ax = a[1] as number, ay = a[2] as number, az = a[3] as number;
  const bw = b[0] as number, bx = -(b[1] as number), by = -(b[2] as number), bz = -(b[3] as number);
  out[0] = aw * bw - ax * bx - ay * by - az * bz;
  out[1] = aw * bx + ax * bw + ay * bz - az * by;
  out[2] = aw * by - ax * bz + ay * bw + az * bx;
  out[3] = aw * bz + ax * by - ay * bx + az * bw;
  return out;
}

/** Heading (ZYX yaw) in rad, (-π, π], of q_wb. */
export function yawOf(q: ArrayLike<number>): number {
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** Angle in rad, [0, π], of the rotation between two unit quaternions (sign-insensitive). */
export function quatAngleBetween(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = (a[0] as number) * (b[0] as number) + (a[1] as number) * (b[1] as number) + (a[2] as number) * (b[2] as number) + (a[3] as number) * (b[3] as number);
  return 2 * Math.acos(Math.min(1, Math.abs(d)));
}

/** z-component, in the world, of the base's z axis for q_wb: cos(tilt). */
export function upDotBaseZ(q: ArrayLike<number>): number {
  const x = q[1] as number, y = q[2] as number;
  return 1 - 2 * (x * x + y * y);
}

/** Tilt of the base in rad, [0, π]: the angle between the base's z axis and world up. */
export function tiltOf(q: ArrayLike<number>): number {
  const c = upDotBaseZ(q);
  return Math.acos(c > 1 ? 1 : c < -1 ? -1 : c);
}

/** Angle in rad between the world-up directions two orientations q_wb put in the base frame
 * (their disagreement in tilt, blind to heading). */
export function tiltDisagreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  // Up in the base frame: third row of R_wb = (2(xz - wy), 2(yz + wx), w² - x² - y² + z²).
  const ux = 2 * ((a[1] as number) * (a[3] as number) - (a[0] as number) * (a[2] as number));
  const uy = 2 * ((a[2] as number) * (a[3] as number) + (a[0] as number) * (a[1] as number));
  const uz = (a[0] as number) ** 2 - (a[1] as number) ** 2 - (a[2] as number) ** 2 + (a[3] as number) ** 2;
  const vx = 2 * ((b[1] as number) * (b[3] as number) - (b[0] as number) * (b[2] as number));
  const vy = 2 * ((b[2] as number) * (b[3] as number) + (b[0] as number) * (b[1] as number));
  const vz = (b[0] as number) ** 2 - (b[1] as number) ** 2 - (b[2] as number) ** 2 + (b[3] as number) ** 2;
  const cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
  return Math.atan2(Math.sqrt(cx * cx + cy * cy + cz * cz), ux * vx + uy * vy + uz * vz);
}
