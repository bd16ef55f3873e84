/**
 * Unit-quaternion helpers for the estimator, w,x,y,z (Hamilton), allocation-free: every function
 * writes into `out` (which may alias an input) or returns a number. `q_ab` rotates frame-b vectors
 * into frame a: v_a = q_ab ⊗ v_b ⊗ q_ab*. (hardware/quaternion.ts has its own copy: hardware's
 * public API does not export it, and the estimator needs a few extra operations.)
 */

/** out = a ⊗ b (apply b, then a). */
export function quatMul(out: Float64Array, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const aw = a[0] as number, ax = a[1] as number, ay = a[2] as number, az = a[3] as number;
  const bw = b[0] as number, bx = b[1] as number, by = b[2] as number, bz = b[3] as number;
  out[0] = aw * bw - ax * bx - ay * by - az * bz;
  out[1] = aw * bx + ax * bw + ay * bz - az * by;
  out[2] = aw * by - ax * bz + ay * bw + az * bx;
  out[3] = aw * bz + ax * by - ay * bx + az * bw;
  return out;
}

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

/** Scales q to unit norm in place; returns the norm it had (0 leaves q untouched). */
export function quatNormalize(q: Float64Array): number {
  const n = Math.sqrt((q[0] as number) ** 2 + (q[1] as number) ** 2 + (q[2] as number) ** 2 + (q[3] as number) ** 2);
  if (n > 0) {
    q[0] = (q[0] as number) / n; q[1] = (q[1] as number) / n; q[2] = (q[2] as number) / n; q[3] = (q[3] as number) / n;
  }
  return n;
}

/** out = q ⊗ v ⊗ q* (v from q's source frame into its target frame). */
export function rotateVec(out: Float64Array, q: ArrayLike<number>, vx: number, vy: number, vz: number): Float64Array {
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  out[0] = vx + w * tx + (y * tz - z * ty);
  out[1] = vy + w * ty + (z * tx - x * tz);
  out[2] = vz + w * tz + (x * ty - y * tx);
  return out;
}

/** out = q* ⊗ v ⊗ q (the inverse rotation: target frame into source frame). */
export function rotateVecInverse(out: Float64Array, q: ArrayLike<number>, vx: number, vy: number, vz: number): Float64Array {
  const w = q[0] as number, x = -(q[1] as number), y = -(q[2] as number), z = -(q[3] as number);
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  out[0] = vx + w * tx + (y * tz - z * ty);
  out[1] = vy + w * ty + (z * tx - x * tz);
  out[2] = vz + w * tz + (x * ty - y * tx);
  return out;
}

/** q ← q ⊗ exp(ω h / 2): advances q_wb by a body-frame rate ω (rad/s) held for h s, exact for a
 * constant rate; renormalises. */
export function quatIntegrate(q: Float64Array, wx: number, wy: number, wz: number, h: number): void {
  const rate = Math.sqrt(wx * wx + wy * wy + wz * wz);
  if (rate === 0 || h === 0) return;
  const half = 0.5 * rate * h;
  const s = Math.sin(half) / rate;
  const dw = Math.cos(half), dx = wx * s, dy = wy * s, dz = wz * s;
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  q[0] = w * dw - x * dx - y * dy - z * dz;
  q[1] = w * dx + x * dw + y * dz - z * dy;
  q[2] = w * dy - x * dz + y * dw + z * dx;
  q[3] = w * dz + x * dy - y * dx + z * dw;
  quatNormalize(q);
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
