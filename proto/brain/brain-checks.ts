/**
 * Checks shared by the edge and the cloud: pure functions over decoded messages, no I/O. Each
 * returns null when the message is acceptable, or an issue (code + a message naming the offending
 * value), so callers turn it into an Error message or a counter without parsing text.
 */
import {
  BRAIN_PROTOCOL_MAJOR, MAX_CHUNK_ACTION_DIM, MAX_CHUNK_ROWS, MAX_IMAGE_BYTES, type ActionChunk, type BrainError, type ErrorCode,
  type Hello, type Joint, type Observation, type Plan,
} from './brain-messages.js';

export interface Issue {
  code: ErrorCode;
  message: string;
  /** A short machine-readable reason, usable as a metric label. */
  reason: string;
}

const issue = (code: ErrorCode, reason: string, message: string): Issue => ({ code, reason, message });

/** The index of the first non-finite value, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return i;
  return -1;
}

/** A latent vector's dims and values. */
export function checkLatent(latent: ArrayLike<number>, latentDim: number): Issue | null {
  if (latent.length !== latentDim) {
    return issue('BACKEND_FAILED', 'latent-dims', `latent has ${latent.length} values, latent_dim is ${latentDim}`);
  }
  const bad = firstNonFinite(latent);
  if (bad >= 0) return issue('BACKEND_FAILED', 'latent-not-finite', `latent[${bad}] is ${String(latent[bad])}`);
  return null;
}

/**
 * An action chunk against the robot it is for: its shape (rows, one value per joint, a step), its
 * numbers (finite) and every target inside the joint's position range. The message names the
 * field, the row and the joint that do not fit. `joints` are the robot's, from its Hello.
 */
export function checkActionChunk(c: ActionChunk, joints: readonly Joint[], maxRows = MAX_CHUNK_ROWS): Issue | null {
  if (!(Number.isInteger(c.rows) && c.rows >= 1 && c.rows <= maxRows)) {
    return issue('BACKEND_FAILED', 'chunk-rows', `action_chunk.rows ${c.rows} is outside 1..${maxRows}`);
  }
  if (c.actionDim !== joints.length || c.actionDim > MAX_CHUNK_ACTION_DIM) {
    return issue('BACKEND_FAILED', 'chunk-action-dim', `action_chunk.action_dim ${c.actionDim} does not fit the robot's ${joints.length} joints (${joints.map((j) => j.name).join(', ')})`);
  }
  if (!(Number.isInteger(c.stepUs) && c.stepUs > 0)) return issue('BACKEND_FAILED', 'chunk-step', `action_chunk.step_us ${c.stepUs} must be a positive integer`);
  if (c.actions.length !== c.rows * c.actionDim) {
    return issue('BACKEND_FAILED', 'chunk-size', `action_chunk.actions has ${c.actions.length} values, rows x action_dim is ${c.rows} x ${c.actionDim}`);
  }
  const A = c.actionDim;
  for (let i = 0; i < c.actions.length; i++) {
    const v = c.actions[i] as number;
    const j = joints[i % A] as Joint;
    const where = `action_chunk row ${Math.floor(i / A)} joint ${i % A} ("${j.name}")`;
    if (!Number.isFinite(v)) return issue('BACKEND_FAILED', 'chunk-not-finite', `${where} is ${String(v)}`);
    if (v < j.positionMin || v > j.positionMax) {
      return issue('BACKEND_FAILED', 'chunk-out-of-limits', `${where} is ${v.toFixed(4)} rad, outside the joint's range [${j.positionMin}, ${j.positionMax}]`);
    }
  }
  return null;
}

export interface HelloLimits {
  /** Protocol majors the receiver speaks (default: BRAIN_PROTOCOL_MAJOR only). */
  protocolMajors?: readonly number[];
}

/** The structure of a Hello: ids, protocol major, and joints/poses consistent with each other. */
export function checkHello(h: Hello, limits: HelloLimits = {}): Issue | null {
  if (h.robotId === '') return issue('UNKNOWN_ROBOT', 'no-robot-id', 'hello.robot_id is empty');
  const majors = limits.protocolMajors ?? [BRAIN_PROTOCOL_MAJOR];
  if (!majors.includes(h.protocolMajor)) {
    return issue('INCOMPATIBLE', 'protocol-major', `hello.protocol_major ${h.protocolMajor} is not spoken here (speaks ${majors.join(', ')})`);
  }
  if (h.latentSpace === '') return issue('INCOMPATIBLE', 'no-latent-space', 'hello.latent_space is empty');
  if (!(h.latentDim > 0)) return issue('INCOMPATIBLE', 'latent-dim', `hello.latent_dim ${h.latentDim} must be > 0`);
  for (const [i, j] of h.joints.entries()) {
    if (![j.positionMin, j.positionMax, j.velocityMax].every(Number.isFinite) || !(j.positionMax > j.positionMin)) {
      return issue('INCOMPATIBLE', 'joint-limits', `hello.joints[${i}] "${j.name}": limits [${j.positionMin}, ${j.positionMax}] are not a finite range`);
    }
    if (j.accelerationMax !== undefined && !(Number.isFinite(j.accelerationMax) && j.accelerationMax >= 0)) {
      return issue('INCOMPATIBLE', 'joint-limits', `hello.joints[${i}] "${j.name}": acceleration_max ${j.accelerationMax} is not a finite value >= 0`);
    }
  }
  for (const [name, pose] of Object.entries(h.poses)) {
    if (pose.positions.length !== h.joints.length) {
      return issue('INCOMPATIBLE', 'pose-dims', `hello.poses["${name}"] has ${pose.positions.length} positions for ${h.joints.length} joints`);
    }
    const bad = firstNonFinite(pose.positions);
    if (bad >= 0) return issue('INCOMPATIBLE', 'pose-not-finite', `hello.poses["${name}"].positions[${bad}] is not finite`);
  }
  return null;
}

export interface ObservationLimits {
  stateDim: number;
  /** The last accepted seq of the session; null before the first. */
  lastSeq: number | null;
  maxImageBytes?: number;
}

/** An observation against its session: seq strictly increasing, state dims, finite, frame sizes. */
export function checkObservation(o: Observation, limits: ObservationLimits): Issue | null {
  if (!Number.isSafeInteger(o.seq) || o.seq <= 0) {
    return issue('BAD_OBSERVATION', 'seq', `observation seq ${o.seq} must be a positive integer`);
  }
  if (limits.lastSeq !== null && o.seq <= limits.lastSeq) {
    const what = o.seq === limits.lastSeq ? 'duplicate' : 'out-of-order';
    return issue('BAD_OBSERVATION', what, `observation seq ${o.seq} is ${what}: the last accepted seq is ${limits.lastSeq}`);
  }
  if (o.state.length !== limits.stateDim) {
    return issue('BAD_OBSERVATION', 'state-dims', `observation ${o.seq}: state has ${o.state.length} values, state_dim is ${limits.stateDim}`);
  }
  const bad = firstNonFinite(o.state);
  if (bad >= 0) return issue('BAD_OBSERVATION', 'state-not-finite', `observation ${o.seq}: state[${bad}] is ${String(o.state[bad])}`);
  const maxBytes = limits.maxImageBytes ?? MAX_IMAGE_BYTES;
  for (const [i, f] of o.frames.entries()) {
    if (f.data.length > maxBytes) {
      return issue('BAD_OBSERVATION', 'image-too-large', `observation ${o.seq}: frames[${i}] ("${f.cameraId}") is ${f.data.length} bytes, the limit is ${maxBytes}`);
    }
    if (f.encoding !== 'jpeg' && f.encoding !== 'png') {
      return issue('BAD_OBSERVATION', 'image-encoding', `observation ${o.seq}: frames[${i}] ("${f.cameraId}") has encoding "${f.encoding}", expected "jpeg" or "png"`);
    }
  }
  return null;
}

export interface PlanLimits {
  latentDim: number;
  /** The last accepted plan id of the session; null before the first. */
  lastPlanId: number | null;
}

/** A plan against its session: plan id increasing, latent dims and values, a validity. */
export function checkPlan(p: Plan, limits: PlanLimits): Issue | null {
  if (limits.lastPlanId !== null && p.planId <= limits.lastPlanId) {
    return issue('BACKEND_FAILED', 'plan-id', `plan id ${p.planId} is not above the last plan id ${limits.lastPlanId}`);
  }
  const latent = checkLatent(p.latent, limits.latentDim);
  if (latent !== null) return { ...latent, message: `plan ${p.planId}: ${latent.message}` };
  if (!(p.validForMs > 0)) return issue('BACKEND_FAILED', 'validity', `plan ${p.planId}: valid_for_ms is ${p.validForMs}`);
  return null;
}

/** When a plan stops being valid, on the edge clock: observation capture + valid_for_ms. */
export function planExpiresAtUs(observationCaptureTimeUs: number, validForMs: number): number {
  return observationCaptureTimeUs + validForMs * 1000;
}

/** An issue as the wire's Error message. */
export function issueToError(i: Issue, observationSeq = 0): BrainError {
  return { code: i.code, message: i.message, observationSeq };
}
