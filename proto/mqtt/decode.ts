/**
 * Receiver-side decoding. Never throws; problems come back as data naming the offending value.
 *
 * Fail-safe rule for e-stop topics: ANY message that is not a well-formed e-stop or release is an
 * e-stop of category 0 (`malformed: true`); an empty payload (MQTT's "clear retained") included.
 * Resets, resumes, episode marks and heartbeats are the opposite: anything not well-formed is refused / ignored.
 */
import type { z } from 'zod';
import {
  EpisodeMarkCommandSchema, EstopTopicMessageSchema, HeartbeatSchema, ResetCommandSchema, ResumeCommandSchema,
  type EpisodeMarkCommand, type EstopCommand, type EstopRelease, type Heartbeat, type ResetCommand, type ResumeCommand, type StopCategory,
} from './payloads.js';
import { TaskRecordSchema, type TaskRecord } from './task-record.js';

export type EstopDecision =
  | { kind: 'estop'; category: StopCategory; malformed: false; command: EstopCommand }
  | { kind: 'estop'; category: 0; malformed: true; problem: string }
  | { kind: 'release'; release: EstopRelease };

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function preview(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 24)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `${JSON.stringify(head)}${bytes.length > 24 ? '...' : ''} (${bytes.length} bytes)`;
}

function decodeJson<T>(schema: z.ZodType<T>, bytes: Uint8Array, what: string, maxBytes = 4096): Decoded<T> {
  if (bytes.length === 0) return { ok: false, problem: `${what}: empty payload` };
  if (bytes.length > maxBytes) return { ok: false, problem: `${what}: payload of ${bytes.length} bytes exceeds ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, problem: `${what}: not UTF-8 JSON: ${preview(bytes)}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0];
  const key = first ? first.path.map(String).join('.') || '(root)' : '(root)';
  return { ok: false, problem: `${what}: ${key}: ${first?.message ?? 'invalid'}` };
}

/** Decodes a message from an e-stop topic: a stop, a release, or (anything else) a category-0 stop. */
export function decodeEstopMessage(bytes: Uint8Array): EstopDecision {
  const r = decodeJson(EstopTopicMessageSchema, bytes, 'e-stop');
  if (!r.ok) return { kind: 'estop', category: 0, malformed: true, problem: r.problem };
  if (r.value.kind === 'release') return { kind: 'release', release: r.value };
  return { kind: 'estop', category: r.value.category, malformed: false, command: r.value };
}

export function decodeReset(bytes: Uint8Array): Decoded<ResetCommand> {
  return decodeJson(ResetCommandSchema, bytes, 'reset');
}

export function decodeResume(bytes: Uint8Array): Decoded<ResumeCommand> {
  return decodeJson(ResumeCommandSchema, bytes, 'resume');
}

export function decodeEpisodeMark(bytes: Uint8Array): Decoded<EpisodeMarkCommand> {
  return decodeJson(EpisodeMarkCommandSchema, bytes, 'episode mark');
}

export function decodeHeartbeat(bytes: Uint8Array): Decoded<Heartbeat> {
  return decodeJson(HeartbeatSchema, bytes, 'heartbeat');
}

/** A retained task record; `robot` must match the topic's robot level. */
export function decodeTask(bytes: Uint8Array, topicRobot: string): Decoded<TaskRecord> {
  // 2000 characters of instruction may take up to 3 bytes each in UTF-8.
  const r = decodeJson(TaskRecordSchema, bytes, 'task', 8192);
  if (r.ok && r.value.robot !== topicRobot) return { ok: false, problem: `task: robot ${JSON.stringify(r.value.robot)} does not match the topic's robot ${JSON.stringify(topicRobot)}` };
  return r;
}

export function encodePayload(value: object): Buffer {
  return Buffer.from(JSON.stringify(value));
}
