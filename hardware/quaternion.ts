/**
 * Unit quaternions w,x,y,z (Hamilton convention) in Float64Arrays, allocation-free: every function
 * writes into an `out` argument, which may alias an input. `q_ab` rotates vectors from frame b into
 * frame a: v_a = q_ab ⊗ v_b ⊗ q_ab*.
 */
export type Quat = Float64Array; // length 4: w, x, y, z
export type Vec3 = Float64Array; // length 3

/** out = a ⊗ b (apply b, then a). */
export function quatMultiply(out: Quat, a: ArrayLike<number>, b: ArrayLike<number>): Quat {
  const aw = a[0] as number, ax = a[1] as number, ay = a[2] as number, az = a[3] as number;
  const bw = b[0] as number, bx = b[1] as number, by = b[2] as number, bz = b[3] as number;
  out[0] = aw * bw - ax * bx - ay * by - az * bz;
  out[1] = aw * bx + ax * bw + ay * bz - az * by;
  out[2] = aw * by - ax * bz + ay * bw + az * bx;
  out[3] = aw * bz + ax * by - ay * bx + az * bw;
  return out;
}

/** Scales q to unit norm in place (identity if q is zero). */
export function quatNormalize(q: Quat): Quat {
  // Not Math.hypot: V8 allocates an array for its arguments on every call, and this runs per
  // STATE sample (1 kHz); a quaternion's components cannot overflow a sum of squares.
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  const n = Math.sqrt(w * w + x * x + y * y + z * z);
  if (n === 0) {
    q[0] = 1; q[1] = 0; q[2] = 0; q[3] = 0;
  } else {
    q[0] = (q[0] as number) / n; q[1] = (q[1] as number) / n; q[2] = (q[2] as number) / n; q[3] = (q[3] as number) / n;
  }
  return q;
}

/** out = rotation of v by q (sign = 1) or by its conjugate (sign = -1, the inverse rotation). */
function rotate(out: Vec3, q: ArrayLike<number>, v: ArrayLike<number>, sign: 1 | -1): Vec3 {
  const w = q[0] as number, x = sign * (q[1] as number), y = sign * (q[2] as number), z = sign * (q[3] as number);
  const vx = v[0] as number, vy = v[1] as number, vz = v[2] as number;
  // v' = v + 2w (u × v) + 2 u × (u × v), u = (x, y, z)
  const tx = 2 * (y * vz - z * vy);
  const ty = 2 * (z * vx - x * vz);
  const tz = 2 * (x * vy - y * vx);
  out[0] = vx + w * tx + (y * tz - z * ty);
  out[1] = vy + w * ty + (z * tx - x * tz);
  out[2] = vz + w * tz + (x * ty - y * tx);
  return out;
}

/** out = q ⊗ v ⊗ q*: v expressed in q's source frame → its target frame. */
export function quatRotate(out: Vec3, q: ArrayLike<number>, v: ArrayLike<number>): Vec3 {
  return rotate(out, q, v, 1);
}

/** out = q* ⊗ v ⊗ q: the inverse rotation (target frame → source frame). */
export function quatRotateInverse(out: Vec3, q: ArrayLike<number>, v: ArrayLike<number>): Vec3 {
  return rotate(out, q, v, -1);
}

/** Advances q_wb by a body-frame angular velocity w (rad/s) held for h seconds, exactly for a
 * constant rate: q ← q ⊗ exp(w h / 2); then renormalises. */
export function quatIntegrateBodyRate(q: Quat, wx: number, wy: number, wz: number, h: number): Quat {
  const rate = Math.sqrt(wx * wx + wy * wy + wz * wz); // not Math.hypot: see quatNormalize
  if (rate === 0 || h === 0) return q;
  const half = 0.5 * rate * h;
  const s = Math.sin(half) / rate;
  const dw = Math.cos(half), dx = wx * s, dy = wy * s, dz = wz * s;
  const w = q[0] as number, x = q[1] as number, y = q[2] as number, z = q[3] as number;
  q[0] = w * dw - x * dx - y * dy - z * dz;
  q[1] = w * dx + x * dw + y * dz - z * dy;
  q[2] = w * dy - x * dz + y * dw + z * dx;
  q[3] = w * dz + x * dy - y * dx + z * dw;
  return quatNormalize(q);
}

/** Rotation angle of a unit quaternion in rad, in [0, π]. */
export function quatAngle(q: ArrayLike<number>): number {
  return 2 * Math.acos(Math.min(1, Math.abs(q[0] as number)));
}
