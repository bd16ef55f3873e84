/**
 * The messages of one planning call: a system message that states the robot (joints with limits,
 * named poses), the subtask kinds and the reply format; a user message with the instruction, the
 * robot's joint positions now, what the previous plan got done and why a new plan is asked for,
 * and the camera image when there is one. The model plans only what remains, from where the
 * robot is.
 */
import type { RobotJoints } from '../reference/robot-kinematics.js';
import type { ChatMessage, ContentPart } from './chat-client.js';
import { MAX_WAIT_MS } from './plan-schema.js';

export interface PlanContext {
  instruction: string;
  state: readonly number[];
  /** Why this call: 'new task', 'subtask 1/2 done', 'timer', 'retry after: ...'. */
  reason: string;
  /** The previous plan's subtasks and how far the robot got (index of the current one). */
  previous: { texts: readonly string[]; current: number } | null;
  imageUrl: string | null;
  /** Why there is no image, when there is none. */
  imageNote: string | null;
}

const f = (v: number): string => Number(v.toFixed(4)).toString();

export function systemPrompt(robot: RobotJoints, maxSubtasks: number): string {
  const joints = robot.names.map((n, j) => `  ${j}: ${n} [${f(robot.lower[j] as number)}, ${f(robot.upper[j] as number)}] rad`).join('\n');
  const poses = [...robot.poses.entries()].map(([n, q]) => `  ${n}: [${q.map(f).join(', ')}]`).join('\n');
  return [
    'You plan motions for a robot arm. Turn the operator\'s instruction into at most '
      + `${maxSubtasks} subtasks, done in order from the robot's current position.`,
    `Joints (index: name [min, max]), ${robot.names.length} in this order:\n${joints}`,
    `Named poses:\n${poses || '  (none)'}`,
    'Subtask kinds (fill the field the kind uses, null the others):',
    '  pose:   go to a named pose; "pose" is its name',
    `  joints: go to absolute joint positions; "joints" has ${robot.names.length} values in rad, within the limits`,
    `  move:   move relative to the previous target; "deltas" has ${robot.names.length} values in rad`,
    `  wait:   stay still for "waitMs" milliseconds (0 to ${MAX_WAIT_MS})`,
    'Give every subtask a short "text" saying what it does. Plan only what remains to be done; '
      + 'set "done" true with no subtasks when the instruction is already complete.',
    'Reply with one JSON object: {"done": boolean, "subtasks": [{"kind", "text", "pose", "joints", "deltas", "waitMs"}]}.',
  ].join('\n');
}

export function planMessages(robot: RobotJoints, maxSubtasks: number, c: PlanContext): ChatMessage[] {
  const lines = [
    `Instruction: ${c.instruction}`,
    `Joint positions now (rad): [${c.state.map(f).join(', ')}]`,
    `Why a plan is asked for now: ${c.reason}`,
  ];
  if (c.previous !== null && c.previous.texts.length > 0) {
    const done = c.previous.texts.slice(0, c.previous.current);
    lines.push(`Previous plan: ${c.previous.texts.map((t, i) => `${i + 1}. ${t}`).join('; ')}`);
    lines.push(done.length > 0 ? `Completed so far: ${done.join('; ')}` : 'Completed so far: nothing');
  }
  if (c.imageUrl === null) lines.push(`No camera image${c.imageNote !== null ? ` (${c.imageNote})` : ''}.`);
  const parts: ContentPart[] = [{ type: 'text', text: lines.join('\n') }];
  if (c.imageUrl !== null) parts.push({ type: 'image_url', image_url: { url: c.imageUrl } });
  return [
    { role: 'system', content: systemPrompt(robot, maxSubtasks) },
    { role: 'user', content: parts },
  ];
}
