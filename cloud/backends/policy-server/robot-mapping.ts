/**
 * How a robot's observation becomes a policy server's inputs and its action chunk becomes joint
 * targets, shared by the openpi and GR00T backends. Configured per backend:
 * - state: input key → the robot joints (indices into Hello.joints) whose positions it carries;
 * - images: input key → camera id; the frame (JPEG, already sized on the edge) is decoded to
 *   uint8 RGB, H×W×3 or 3×H×W, and must have the configured size;
 * - actions: which columns of the policy's action rows are which joint, the policy's action rate,
 *   and whether the rows are absolute positions or deltas from the observed state.
 * Errors name the configuration field, the key and the shape that do not fit the robot.
 */
import jpeg from 'jpeg-js';
import type { CameraFrame, Hello } from '../../../proto/brain/index.js';
import { readJpegHeader } from '../images/jpeg-header.js';
import type { ChunkOutput } from '../backend.js';
import { uint8Array, type NdArray } from './ndarray.js';

export interface RobotMappingConfig {
  /** Input key → joint indices. Default { [defaultStateKey]: all joints }. */
  state?: Record<string, number[]>;
  /** Input key → camera id. */
  images?: Record<string, string>;
  /** Size every mapped frame must have (the edge's cloud.image size). */
  imageSize?: { width: number; height: number };
  imageLayout?: 'hwc' | 'chw';
  /** Which columns of an action row are the robot's joints, in joint order. Default 0..N-1. */
  actionColumns?: number[];
  /** Rows per second of the policy's action chunk. */
  actionHz: number;
  /** 'absolute' (joint positions) or 'delta' (added to the observed positions). Default absolute. */
  actionMode?: 'absolute' | 'delta';
  /** Rows of each chunk used (from the start); default all. */
  maxRows?: number;
}

/** Null when the mapping fits the robot, else why not (for BrainBackend.accepts). */
export function mappingAccepts(c: RobotMappingConfig, hello: Hello, backend: string, defaultStateKey: string): string | null {
  const n = hello.joints.length;
  for (const [key, idx] of Object.entries(c.state ?? { [defaultStateKey]: [] })) {
    const bad = idx.find((i) => !(Number.isInteger(i) && i >= 0 && i < n));
    if (bad !== undefined) return `${backend}.state["${key}"] names joint ${bad}; the robot has joints 0..${n - 1}`;
  }
  for (const [key, cam] of Object.entries(c.images ?? {})) {
    if (!hello.cameraIds.includes(cam)) return `${backend}.images["${key}"] is camera "${cam}"; the robot sends ${hello.cameraIds.length > 0 ? hello.cameraIds.map((x) => `"${x}"`).join(', ') : 'no cameras'} (hello.camera_ids)`;
  }
  const cols = c.actionColumns;
  if (cols !== undefined && cols.length !== n) return `${backend}.actionColumns has ${cols.length} entries; the robot has ${n} joints`;
  return null;
}

/** State inputs: key → float32 [len] of the named joints (all joints for the default key). */
export function stateInputs(c: RobotMappingConfig, state: readonly number[], defaultStateKey: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const spec = c.state ?? { [defaultStateKey]: state.map((_, i) => i) };
  for (const [key, idx] of Object.entries(spec)) out.set(key, Float32Array.from(idx, (i) => state[i] as number));
  return out;
}

export type ImagesResult = { ok: true; images: Map<string, NdArray> } | { ok: false; message: string };

/** Decodes each mapped camera's frame to uint8 RGB of the configured size and layout. */
export function imageInputs(c: RobotMappingConfig, frames: readonly CameraFrame[], backend: string): ImagesResult {
  const images = new Map<string, NdArray>();
  for (const [key, cam] of Object.entries(c.images ?? {})) {
    const f = frames.find((x) => x.cameraId === cam);
    if (f === undefined) return { ok: false, message: `${backend}.images["${key}"]: the observation has no frame of camera "${cam}"` };
    if (f.encoding !== 'jpeg') return { ok: false, message: `${backend}.images["${key}"]: camera "${cam}" sends ${f.encoding}; this backend takes JPEG frames` };
    const h = readJpegHeader(f.data);
    if (!h.ok) return { ok: false, message: `${backend}.images["${key}"]: camera "${cam}": ${h.message}` };
    const size = c.imageSize;
    if (size !== undefined && (h.header.width !== size.width || h.header.height !== size.height)) {
      return { ok: false, message: `${backend}.images["${key}"]: camera "${cam}" frame is ${h.header.width}x${h.header.height}, ${backend}.imageSize is ${size.width}x${size.height} (set the edge's cloud.image to it)` };
    }
    let rgba: Uint8Array;
    try {
      rgba = jpeg.decode(f.data, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 4, maxMemoryUsageInMB: 64 }).data;
    } catch (e) {
      return { ok: false, message: `${backend}.images["${key}"]: camera "${cam}" frame does not decode: ${(e as Error).message}` };
    }
    const W = h.header.width, H = h.header.height;
    const rgb = new Uint8Array(W * H * 3);
    const chw = c.imageLayout === 'chw';
    for (let p = 0; p < W * H; p++) {
      for (let k = 0; k < 3; k++) rgb[chw ? k * W * H + p : p * 3 + k] = rgba[p * 4 + k] as number;
    }
    images.set(key, uint8Array(rgb, chw ? [3, H, W] : [H, W, 3]));
  }
  return { ok: true, images };
}

export type ChunkResult = { ok: true; chunk: ChunkOutput } | { ok: false; message: string };

/**
 * The policy's rows ([rows, cols] float64, row-major) as joint targets: columns picked, deltas
 * added to the observed state, the step from actionHz. `what` names the reply field in errors.
 */
export function chunkFromRows(c: RobotMappingConfig, rows: number, cols: number, values: Float64Array, state: readonly number[], what: string, backend: string): ChunkResult {
  const n = state.length;
  const columns = c.actionColumns ?? Array.from({ length: n }, (_, i) => i);
  const widest = Math.max(...columns);
  if (rows < 1) return { ok: false, message: `${what} has no rows` };
  if (cols <= widest) {
    return { ok: false, message: `${what} has shape [${rows}, ${cols}]; the robot has ${n} joints and ${backend}.actionColumns needs column ${widest}` };
  }
  const used = Math.min(rows, c.maxRows ?? rows);
  const actions = new Float64Array(used * n);
  const delta = c.actionMode === 'delta';
  for (let r = 0; r < used; r++) {
    for (let j = 0; j < n; j++) {
      const v = values[r * cols + (columns[j] as number)] as number;
      if (!Number.isFinite(v)) return { ok: false, message: `${what}[${r}][${columns[j]}] (joint ${j}) is ${String(v)}` };
      actions[r * n + j] = delta ? (state[j] as number) + v : v;
    }
  }
  return { ok: true, chunk: { rows: used, actionDim: n, stepUs: Math.round(1e6 / c.actionHz), actions } };
}
