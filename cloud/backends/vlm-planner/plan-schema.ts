/**
 * What the planning model must answer, and how an answer becomes a Program for the goal runner.
 *
 * The reply is one JSON object: {"done": bool, "subtasks": [{"kind", "text", "pose", "joints",
 * "deltas", "waitMs"}, ...]}. Every subtask object has every key (null where its kind does not use
 * it) because OpenAI-style strict schemas require all properties and no others; that flat shape is
 * also what llama.cpp's grammar converter, vLLM's xgrammar/guidance and Ollama handle alike.
 *
 * Invariant: a Program built here has only absolute joint targets inside the robot's limits and
 * at most maxSubtasks steps; anything else is refused with a reason that names the subtask, the
 * field and the value, and nothing of the refused plan reaches the robot.
 */
import { z } from 'zod';
import type { Program, ProgramStep } from '../reference/instruction-parser.js';
import type { RobotJoints } from '../reference/robot-kinematics.js';

export const SUBTASK_KINDS = ['pose', 'joints', 'move', 'wait'] as const;
export const MAX_WAIT_MS = 60_000;
const MAX_TEXT = 200;

/** The reply's shape (the limits and names of a robot are checked after, with named reasons). */
export const PlanReplySchema = z.strictObject({
  done: z.boolean(),
  subtasks: z.array(z.strictObject({
    kind: z.enum(SUBTASK_KINDS),
    text: z.string().max(MAX_TEXT),
    pose: z.string().nullable(),
    joints: z.array(z.number()).nullable(),
    deltas: z.array(z.number()).nullable(),
    waitMs: z.number().nullable(),
  })),
});
export type PlanReply = z.infer<typeof PlanReplySchema>;
export type Subtask = PlanReply['subtasks'][number];

/** The JSON Schema sent as response_format for this robot (pose names and joint count filled in). */
export function planJsonSchema(robot: RobotJoints, maxSubtasks: number): Record<string, unknown> {
  const J = robot.names.length;
  const poses = [...robot.poses.keys()];
  const vector = { anyOf: [{ type: 'array', items: { type: 'number' }, minItems: J, maxItems: J }, { type: 'null' }] };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['done', 'subtasks'],
    properties: {
      done: { type: 'boolean' },
      subtasks: {
        type: 'array',
        maxItems: maxSubtasks,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'text', 'pose', 'joints', 'deltas', 'waitMs'],
          properties: {
            kind: { type: 'string', enum: [...SUBTASK_KINDS] },
            text: { type: 'string', maxLength: MAX_TEXT },
            pose: poses.length > 0 ? { anyOf: [{ type: 'string', enum: poses }, { type: 'null' }] } : { type: 'null' },
            joints: vector,
            deltas: vector,
            waitMs: { anyOf: [{ type: 'number', minimum: 0, maximum: MAX_WAIT_MS }, { type: 'null' }] },
          },
        },
      },
    },
  };
}

export type ReplyCheck =
  | { ok: true; reply: PlanReply }
  | { ok: false; reason: string };

/**
 * The model's text as a PlanReply: JSON (a single ```json fence around it is tolerated, as some
 * servers in json_object mode add one), then the schema.
 */
export function parsePlanReply(content: string): ReplyCheck {
  let text = content.trim();
  const fence = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(text);
  if (fence !== null) text = fence[1] as string;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const nonFinite = /(?<![A-Za-z"])(-?NaN|-?Infinity)(?![A-Za-z"])/.exec(text);
    if (nonFinite !== null) return { ok: false, reason: `the plan holds a non-finite number (${nonFinite[1]}), which JSON cannot carry` };
    return { ok: false, reason: `the reply is not JSON (${(e as Error).message}); it begins ${JSON.stringify(text.slice(0, 80))}` };
  }
  const r = PlanReplySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    return { ok: false, reason: `the reply does not match the plan schema at reply${path}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, reply: r.data };
}

export type ProgramCheck =
  | { ok: true; program: Program; texts: string[] }
  | { ok: false; reason: string };

function limitsProblem(robot: RobotJoints, q: readonly number[], what: string): string | null {
  for (let j = 0; j < q.length; j++) {
    const v = q[j] as number;
    if (!Number.isFinite(v)) return `${what}: joint ${j} (${robot.names[j]}) is ${v}`;
    const lo = robot.lower[j] as number, hi = robot.upper[j] as number;
    if (v < lo || v > hi) return `${what}: joint ${j} (${robot.names[j]}) target ${v.toFixed(4)} rad is outside its limits [${lo}, ${hi}]`;
  }
  return null;
}

/**
 * The reply as a Program starting from `state`: poses and joint targets as given, relative moves
 * added to the target before them (the robot's position for the first), waits held at the target
 * before them. An empty plan that says the task is done holds `state`.
 */
export function programFromReply(reply: PlanReply, robot: RobotJoints, state: readonly number[], maxSubtasks: number): ProgramCheck {
  const J = robot.names.length;
  const n = reply.subtasks.length;
  if (n > maxSubtasks) return { ok: false, reason: `the plan has ${n} subtasks; vlm-planner maxSubtasks is ${maxSubtasks}` };
  if (n === 0) {
    if (!reply.done) return { ok: false, reason: 'the plan has no subtasks and does not say the task is done' };
    return { ok: true, program: { label: 'done', steps: [{ target: { kind: 'positions', positions: [...state] }, label: 'done: hold', dwellMs: 0 }] }, texts: [] };
  }
  let cursor = [...state];
  const steps: ProgramStep[] = [];
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = reply.subtasks[i] as Subtask;
    const what = `subtask ${i + 1} (${s.kind}${s.text !== '' ? ` "${s.text}"` : ''})`;
    let dwellMs = 0;
    if (s.kind === 'pose') {
      if (s.pose === null) return { ok: false, reason: `${what}: "pose" is null` };
      const q = robot.poses.get(s.pose.toLowerCase());
      if (q === undefined) return { ok: false, reason: `${what}: pose "${s.pose}" is not one of this robot's poses (${[...robot.poses.keys()].join(', ') || 'none'})` };
      cursor = [...q];
    } else if (s.kind === 'joints' || s.kind === 'move') {
      const v = s.kind === 'joints' ? s.joints : s.deltas;
      const key = s.kind === 'joints' ? 'joints' : 'deltas';
      if (v === null) return { ok: false, reason: `${what}: "${key}" is null` };
      if (v.length !== J) return { ok: false, reason: `${what}: "${key}" has ${v.length} values; this robot has ${J} joints (${robot.names.join(', ')})` };
      cursor = s.kind === 'joints' ? [...v] : cursor.map((q, j) => q + (v[j] as number));
    } else {
      if (s.waitMs === null || !(s.waitMs >= 0 && s.waitMs <= MAX_WAIT_MS)) return { ok: false, reason: `${what}: "waitMs" is ${s.waitMs}; give 0 to ${MAX_WAIT_MS} ms` };
      dwellMs = s.waitMs;
    }
    const bad = limitsProblem(robot, cursor, what);
    if (bad !== null) return { ok: false, reason: bad };
    steps.push({ target: { kind: 'positions', positions: [...cursor] }, label: s.text !== '' ? s.text : s.kind, dwellMs });
    texts.push(s.text !== '' ? s.text : s.kind);
  }
  // The last step is held for good by the runner, so a trailing wait still counts its time:
  // hold its target once more after it.
  if (reply.subtasks[n - 1]?.kind === 'wait') steps.push({ target: { kind: 'positions', positions: [...cursor] }, label: 'hold', dwellMs: 0 });
  return { ok: true, program: { label: texts.join(' → '), steps }, texts };
}
