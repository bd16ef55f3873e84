/**
 * Draws a small picture of a robot from its joint positions into an RGBA buffer the caller owns
 * and reuses (no allocation per frame): a planar stick figure of the first revolute joints (each
 * segment turned by its joint angle relative to the one before) over a row of joint bars (each
 * bar's height is the joint's position within its limits). Crude on purpose: it is the simulated
 * camera's "image of the robot", and it changes visibly whenever any joint moves.
 */
export interface SketchLimits {
  readonly min: ArrayLike<number>;
  readonly max: ArrayLike<number>;
}

const BG = [24, 28, 36] as const;
const ARM = [230, 230, 230] as const;
const JOINT = [250, 170, 40] as const;
const BAR = [60, 160, 220] as const;
const BAR_BG = [50, 56, 70] as const;

type Rgb = readonly [number, number, number];

export function fill(rgba: Uint8Array, color: Rgb): void {
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = color[0];
    rgba[i + 1] = color[1];
    rgba[i + 2] = color[2];
    rgba[i + 3] = 255;
  }
}

function rect(rgba: Uint8Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const xa = Math.max(0, Math.floor(x0));
  const xb = Math.min(w, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0));
  const yb = Math.min(h, Math.ceil(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = (y * w + x) * 4;
      rgba[i] = c[0];
      rgba[i + 1] = c[1];
      rgba[i + 2] = c[2];
    }
  }
}

/** A line `r` pixels thick: a square stamp at unit steps along it. */
function line(rgba: Uint8Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number, r: number, c: Rgb): void {
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  for (let s = 0; s <= steps; s++) {
    const x = x0 + ((x1 - x0) * s) / steps;
    const y = y0 + ((y1 - y0) * s) / steps;
    rect(rgba, w, h, x - r, y - r, x + r + 1, y + r + 1, c);
  }
}

/** Renders `positions` (rad) into `rgba` (width × height × 4 bytes). Non-finite positions draw as 0. */
export function drawJointSketch(rgba: Uint8Array, width: number, height: number, positions: ArrayLike<number>, limits: SketchLimits): void {
  if (rgba.length !== width * height * 4) throw new RangeError(`sketch buffer has ${rgba.length} bytes, expected ${width * height * 4}`);
  fill(rgba, BG);
  const n = positions.length;
  // Joint bars along the bottom quarter.
  const barTop = Math.floor(height * 0.75);
  const barH = height - barTop - 2;
  const slot = width / Math.max(1, n);
  for (let j = 0; j < n; j++) {
    const lo = limits.min[j] as number;
    const hi = limits.max[j] as number;
    const p = positions[j] as number;
    const frac = Number.isFinite(p) && hi > lo ? Math.min(1, Math.max(0, (p - lo) / (hi - lo))) : 0;
    const x0 = j * slot + 1;
    const x1 = (j + 1) * slot - 1;
    rect(rgba, width, height, x0, barTop, x1, barTop + barH, BAR_BG);
    rect(rgba, width, height, x0, barTop + barH * (1 - frac), x1, barTop + barH, BAR);
  }
  // Stick figure above: base at the bottom centre of the upper area, pointing up.
  const links = Math.min(n, 6);
  const segLen = (barTop - 8) / Math.max(1, links);
  let x = width / 2;
  let y = barTop - 4;
  let angle = -Math.PI / 2;
  for (let j = 0; j < links; j++) {
    const p = positions[j] as number;
    angle += Number.isFinite(p) ? p : 0;
    const nx = x + segLen * Math.cos(angle);
    const ny = y + segLen * Math.sin(angle);
    line(rgba, width, height, x, y, nx, ny, 1, ARM);
    rect(rgba, width, height, x - 2, y - 2, x + 3, y + 3, JOINT);
    x = nx;
    y = ny;
  }
  rect(rgba, width, height, x - 2, y - 2, x + 3, y + 3, JOINT);
}
