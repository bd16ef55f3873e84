/** Shape checks of recorded messages; each refusal names the file, topic, record and field. */
import type { CommandRecord, EpisodeRecord, StateRecord } from '../../proto/recording/channels.js';
import { DatasetError } from './dataset-error.js';

type Where = { path: string; topic: string; logTimeNs: bigint };

function at(w: Where, m: unknown): string {
  const seq = typeof m === 'object' && m !== null && 'seq' in m ? ` seq ${String((m as { seq: unknown }).seq)}` : '';
  return `${w.path}: ${w.topic} message at log time ${w.logTimeNs} ns${seq}`;
}

function obj(w: Where, m: unknown): Record<string, unknown> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new DatasetError(`${at(w, m)}: not a JSON object`);
  return m as Record<string, unknown>;
}

function num(w: Where, m: Record<string, unknown>, key: string): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DatasetError(`${at(w, m)}: ${key} must be a finite number (got ${JSON.stringify(v)})`);
  return v;
}

function vec(w: Where, m: Record<string, unknown>, key: string, n: number): number[] {
  const v = m[key];
  if (!Array.isArray(v)) throw new DatasetError(`${at(w, m)}: ${key} must be an array (got ${JSON.stringify(v)})`);
  if (v.length !== n) throw new DatasetError(`${at(w, m)}: ${key} has ${v.length} values but the recording's jointNames has ${n}`);
  for (let i = 0; i < n; i++) {
    const x = v[i] as unknown;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new DatasetError(`${at(w, m)}: ${key}[${i}] is ${JSON.stringify(x)}, not a finite number`);
  }
  return v as number[];
}

export function checkState(w: Where, raw: unknown, n: number): Pick<StateRecord, 'hostUs' | 'position' | 'velocity'> {
  const m = obj(w, raw);
  return { hostUs: num(w, m, 'hostUs'), position: vec(w, m, 'position', n), velocity: vec(w, m, 'velocity', n) };
}

export function checkCommand(w: Where, raw: unknown, n: number): Pick<CommandRecord, 'hostUs' | 'target' | 'mode'> {
  const m = obj(w, raw);
  return { hostUs: num(w, m, 'hostUs'), target: vec(w, m, 'target', n), mode: num(w, m, 'mode') };
}

const KINDS = new Set(['start', 'end', 'mark']);
const OUTCOMES = new Set(['success', 'failure', 'intervention', 'estop', 'aborted']);

export function checkEpisode(w: Where, raw: unknown): EpisodeRecord {
  const m = obj(w, raw);
  const hostUs = num(w, m, 'hostUs');
  const index = num(w, m, 'index');
  if (typeof m.kind !== 'string' || !KINDS.has(m.kind)) throw new DatasetError(`${at(w, m)}: kind must be start, end or mark (got ${JSON.stringify(m.kind)})`);
  if (m.outcome !== undefined && (typeof m.outcome !== 'string' || !OUTCOMES.has(m.outcome))) throw new DatasetError(`${at(w, m)}: outcome ${JSON.stringify(m.outcome)} is not one of ${[...OUTCOMES].join(', ')}`);
  const str = (k: string): string => (typeof m[k] === 'string' ? (m[k] as string) : '');
  return {
    hostUs, index, kind: m.kind as EpisodeRecord['kind'], taskId: str('taskId'), task: str('task'), source: str('source'),
    ...(m.outcome !== undefined ? { outcome: m.outcome as NonNullable<EpisodeRecord['outcome']> } : {}),
    ...(typeof m.note === 'string' ? { note: m.note } : {}),
  };
}

/** A foxglove.CompressedImage (JSON, base64 data): its bytes and its capture time (µs since the epoch) when it has one. */
export function checkImage(w: Where, raw: unknown): { bytes: Uint8Array; stampUs: number | null } {
  const m = obj(w, raw);
  if (typeof m.data !== 'string') throw new DatasetError(`${at(w, m)}: data must be a base64 string`);
  const ts = m.timestamp as { sec?: unknown; nsec?: unknown } | undefined;
  const stampUs = ts !== undefined && typeof ts.sec === 'number' && typeof ts.nsec === 'number' ? ts.sec * 1e6 + ts.nsec / 1e3 : null;
  return { bytes: Buffer.from(m.data, 'base64'), stampUs };
}
