/** Turns validation findings into `ProfileIssue`s that name the field path and the offending value. */
import type { z } from 'zod';
import type { ProfileIssue } from './profile-error.js';

type PathSegment = PropertyKey;

/** `['joints', 2, 'limits', 'velocityMax']` → `joints[2].limits.velocityMax`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** A short rendering of an offending value for a message. */
export function showValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** An issue whose message reads `<path> <problem>`. */
export function issue(path: readonly PathSegment[] | string, problem: string): ProfileIssue {
  const p = typeof path === 'string' ? path : formatPath(path);
  return { path: p, message: `${p === '' ? 'profile' : p} ${problem}` };
}

/** An issue whose message reads `<path> <problem> (got <value>)`. */
export function issueGot(path: readonly PathSegment[] | string, problem: string, value: unknown): ProfileIssue {
  return issue(path, `${problem} (got ${showValue(value)})`);
}

/** Looks a path up in the raw input: `found` is false when some key on the way is absent. */
function lookUp(root: unknown, path: readonly PathSegment[]): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, seg)) {
      return { found: false, value: undefined };
    }
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return { found: true, value: node };
}

const TYPE_WORDS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  tuple: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

function bound(kind: 'min' | 'max', origin: string, limit: unknown, inclusive: boolean | undefined): string {
  const n = String(limit);
  const entries = limit === 1 ? 'entry' : 'entries';
  if (origin === 'array' || origin === 'set') return kind === 'min' ? `must have at least ${n} ${entries}` : `must have at most ${n} ${entries}`;
  const chars = limit === 1 ? 'character' : 'characters';
  if (origin === 'string') return kind === 'min' ? `must have at least ${n} ${chars}` : `must have at most ${n} ${chars}`;
  const op = kind === 'min' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
  return `must be ${op} ${n}`;
}

/** Converts zod's findings on `input` into issues; the value shown is read from `input` itself. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ProfileIssue[] {
  return issues.map((zi) => {
    const at = lookUp(input, zi.path);
    switch (zi.code) {
      case 'invalid_type': {
        if (!at.found) return issue(zi.path, 'is missing');
        const want = TYPE_WORDS[zi.expected] ?? zi.expected;
        return issueGot(zi.path, `must be ${want}`, at.value);
      }
      case 'too_small':
        return issueGot(zi.path, bound('min', zi.origin, zi.minimum, zi.inclusive), at.value);
      case 'too_big':
        return issueGot(zi.path, bound('max', zi.origin, zi.maximum, zi.inclusive), at.value);
      case 'invalid_value':
        return issueGot(zi.path, `must be one of ${zi.values.map((v) => showValue(v)).join(', ')}`, at.value);
      case 'unrecognized_keys':
        return issue(zi.path, `has unknown field${zi.keys.length > 1 ? 's' : ''} ${zi.keys.map((k) => JSON.stringify(k)).join(', ')}`);
      default:
        return issueGot(zi.path, zi.message, at.value);
    }
  });
}
