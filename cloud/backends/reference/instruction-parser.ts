/**
 * The reference brain's instruction grammar (case-insensitive; punctuation ignored):
 *
 *   hold | stop | stay                    hold the position the robot has when the task starts
 *   home | <pose> | go to <pose> | move to <pose> | go home
 *                                         one of the robot's named poses (Hello.poses)
 *   joints <q1> ... <qJ> [rad|deg]        explicit joint targets, radians unless "deg"/"degrees"
 *                                         (also "10deg", "10°"); exactly one value per joint
 *   wave                                  swing the first joint around home (or the start pose)
 *                                         three times, then return to it
 *   <pose> then <pose> [then ...]         a sequence of poses (also "sequence a, b, c")
 *
 * A target outside a joint's limits is refused (naming the joint and its limits), not clamped.
 * parseInstruction is pure: it turns text into a Program, or an error message that explains the
 * grammar with this robot's pose names.
 */
import type { RobotJoints } from './robot-kinematics.js';

/** One goal of a program: explicit positions, or the position the robot had when the program
 * started plus optional per-joint offsets (clamped to the limits by the runner). */
export type StepTarget = { kind: 'positions'; positions: number[] } | { kind: 'start'; offsets?: number[] };

export interface ProgramStep {
  target: StepTarget;
  label: string;
  /** Stay at the goal this long once reached before the next step (ms). */
  dwellMs: number;
  /** The motion to the goal takes at least this long (s), however fast the joints could go. */
  minMotionS?: number;
}

export interface Program {
  /** Normalised instruction, for logs. */
  label: string;
  /** Done in order; the last step is held for good. */
  steps: ProgramStep[];
}

export type ParseResult = { ok: true; program: Program } | { ok: false; message: string };

const WAVE_CYCLES = 3;
const WAVE_MAX_RAD = 0.5;
const WAVE_RANGE_FRACTION = 0.3;
/**
 * A wave's swing takes at least this long. Bounded only by the joint limits, the quadruped's hip
 * (20 rad/s, 250 rad/s²) swung 0.24 rad in 0.1 s, so its whole wave was over in 1.6 s (beside
 * an arm that waves for 6 s it seemed to hold home), and a 0.1 s motion sampled in 20 ms chunk
 * rows hit the acceleration clamp on most swings (spinal eval).
 */
const WAVE_SWING_MIN_S = 0.5;

export function grammarHelp(robot: RobotJoints): string {
  const poses = [...robot.poses.keys()];
  return [
    'instructions the reference brain understands:',
    `  <pose> | go to <pose> | move to <pose>   poses of this robot: ${poses.length > 0 ? poses.join(', ') : '(none announced)'}`,
    `  joints <q1> ... <q${robot.names.length}> [rad|deg]        ${robot.names.length} joint targets (${robot.names.join(', ')}), radians by default`,
    '  wave                                     swing the first joint three times, then return',
    '  <pose> then <pose> [then ...]            a sequence of poses',
    '  hold | stop | stay                       hold the current position',
  ].join('\n');
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/[!?;:.]+(\s|$)/g, ' ').replace(/\s+/g, ' ').trim();
}

/** "go to the home pose" -> "home". */
function poseName(phrase: string): string {
  return phrase
    .replace(/^(please )?(go|move|return|get)( back)?( to)?( the)? /, '')
    .replace(/^(to )?(the )?/, '')
    .replace(/ (pose|position)$/, '')
    .trim();
}

function hold(label: string): Program {
  return { label, steps: [{ target: { kind: 'start' }, label: 'hold', dwellMs: 0 }] };
}

function checkLimits(robot: RobotJoints, q: readonly number[], what: string): string | null {
  for (let j = 0; j < q.length; j++) {
    const v = q[j] as number;
    const lo = robot.lower[j] as number, hi = robot.upper[j] as number;
    if (!(v >= lo && v <= hi)) {
      return `${what}: joint ${j} (${robot.names[j]}) target ${v.toFixed(4)} rad is outside its limits [${lo}, ${hi}]`;
    }
  }
  return null;
}

function parseJoints(robot: RobotJoints, rest: string): ParseResult {
  let tokens = rest.split(/[\s,]+/).filter((t) => t !== '');
  let degrees = false;
  const unit = (t: string | undefined): boolean => t === 'deg' || t === 'degrees' || t === 'degree';
  if (unit(tokens[0])) { degrees = true; tokens = tokens.slice(1); }
  if (unit(tokens[tokens.length - 1])) { degrees = true; tokens = tokens.slice(0, -1); }
  if (tokens[tokens.length - 1] === 'rad' || tokens[tokens.length - 1] === 'radians') tokens = tokens.slice(0, -1);
  const values: number[] = [];
  for (const t of tokens) {
    const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(deg|°|rad)?$/.exec(t);
    if (m === null) return { ok: false, message: `joints: "${t}" is not a number\n${grammarHelp(robot)}` };
    const v = Number(m[1]);
    values.push(m[2] === 'deg' || m[2] === '°' || (degrees && m[2] !== 'rad') ? (v * Math.PI) / 180 : v);
  }
  if (values.length !== robot.names.length) {
    return { ok: false, message: `joints: ${values.length} values given, this robot has ${robot.names.length} joints (${robot.names.join(', ')})\n${grammarHelp(robot)}` };
  }
  const bad = checkLimits(robot, values, 'joints');
  if (bad !== null) return { ok: false, message: bad };
  return { ok: true, program: { label: `joints ${values.map((v) => v.toFixed(3)).join(' ')}`, steps: [{ target: { kind: 'positions', positions: values }, label: 'joints', dwellMs: 0 }] } };
}

function wave(robot: RobotJoints): Program {
  const home = robot.poses.get('home');
  const lo = robot.lower[0] as number, hi = robot.upper[0] as number;
  const amp = Math.min(WAVE_MAX_RAD, WAVE_RANGE_FRACTION * ((hi - lo) / 2));
  const J = robot.names.length;
  const around = (delta: number): StepTarget => {
    if (home === undefined) return { kind: 'start', offsets: Array.from({ length: J }, (_, j) => (j === 0 ? delta : 0)) };
    const q = [...home];
    q[0] = Math.min(hi, Math.max(lo, (q[0] as number) + delta));
    return { kind: 'positions', positions: q };
  };
  const swing = WAVE_SWING_MIN_S;
  const steps: ProgramStep[] = [{ target: around(0), label: 'wave-base', dwellMs: 0 }];
  for (let c = 0; c < WAVE_CYCLES; c++) {
    steps.push({ target: around(amp), label: 'wave-out', dwellMs: 0, minMotionS: swing });
    steps.push({ target: around(-amp), label: 'wave-in', dwellMs: 0, minMotionS: swing });
  }
  steps.push({ target: around(0), label: 'wave-base', dwellMs: 0, minMotionS: swing });
  return { label: 'wave', steps };
}

function poseSequence(robot: RobotJoints, names: string[], label: string): ParseResult {
  const steps: ProgramStep[] = [];
  for (const raw of names) {
    const name = poseName(raw);
    const q = robot.poses.get(name);
    if (q === undefined) return { ok: false, message: `unknown pose "${name}"\n${grammarHelp(robot)}` };
    const bad = checkLimits(robot, q, `pose "${name}"`);
    if (bad !== null) return { ok: false, message: bad };
    steps.push({ target: { kind: 'positions', positions: [...q] }, label: name, dwellMs: names.length > 1 ? 300 : 0 });
  }
  return { ok: true, program: { label, steps } };
}

export function parseInstruction(text: string, robot: RobotJoints): ParseResult {
  const t = normalise(text);
  if (t === '' || t === 'hold' || t === 'stop' || t === 'stay' || t === 'hold position' || t === 'stay still') return { ok: true, program: hold(t === '' ? 'no task' : t) };
  const joints = /^(?:move )?joints?(?: to)? (.*)$/.exec(t);
  if (joints !== null) return parseJoints(robot, joints[1] as string);
  if (t === 'wave' || t === 'wave hello' || t === 'say hello') return { ok: true, program: wave(robot) };
  const seq = /^sequence (.*)$/.exec(t);
  if (seq !== null) return poseSequence(robot, (seq[1] as string).split(/\s*,\s*|\s+then\s+/), t);
  if (/\bthen\b/.test(t)) return poseSequence(robot, t.split(/\s*,?\s*then\s+/), t);
  const name = poseName(t);
  if (robot.poses.has(name)) return poseSequence(robot, [name], t);
  return { ok: false, message: `instruction "${text.trim()}" is not understood; the robot holds its position\n${grammarHelp(robot)}` };
}
