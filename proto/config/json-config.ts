/**
 * What the edge's and the cloud's JSON configuration files share: reading one, and turning zod's
 * issues into one line per problem that names the key and the value found there.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** `key: message (got value)` per issue, `a.b, c: unknown key` for unknown keys, joined by "; ". */
export function describeIssues(error: z.ZodError, raw: unknown): string {
  return error.issues.map((i) => {
    const key = i.path.map(String).join('.') || '(root)';
    if (i.code === 'unrecognized_keys') return `${key === '(root)' ? '' : `${key}.`}${i.keys.join(', ')}: unknown key`;
    return `${key}: ${i.message} (got ${describeValue(valueAt(raw, i.path))})`;
  }).join('; ');
}

/** The parsed JSON of a file, or the reason it could not be had ("cannot read: ..." / "not valid JSON: ..."). */
export function readJsonFile(path: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, problem: `cannot read: ${(e as Error).message}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, problem: `not valid JSON: ${(e as Error).message}` };
  }
}
