/**
 * MQTT topic contract (MQTT 3.1.1 compatible: no MQTT 5 features needed).
 *
 *   spinal/v1/<fleet>/<robot>/status         retained birth/death (the broker's will sets offline)
 *   spinal/v1/<fleet>/<robot>/state          state summary, QoS 0, 10-50 Hz
 *   spinal/v1/<fleet>/<robot>/brief          the few fields a fleet overview shows, QoS 0, 1 Hz and on change
 *   spinal/v1/<fleet>/<robot>/event          safety events, QoS 1
 *   spinal/v1/<fleet>/<robot>/task           the robot's current task, QoS 1, RETAINED, written by brains
 *   spinal/v1/<fleet>/<robot>/cmd/estop      e-stop for one robot, QoS 1
 *   spinal/v1/<fleet>/<robot>/cmd/reset/<operator>   reset for one robot, QoS 1, never retained
 *   spinal/v1/<fleet>/<robot>/cmd/resume/<operator>  resume for one robot, QoS 1, never retained
 *   spinal/v1/<fleet>/<robot>/cmd/episode/<operator> an operator's mark on the recorded episode, QoS 1, never retained
 *   spinal/v1/<fleet>/<robot>/cmd/heartbeat  operator dead-man heartbeat for one robot
 *   spinal/v1/<fleet>/all/cmd/estop          fleet e-stop, QoS 1, RETAINED: the fleet latch
 *   spinal/v1/<fleet>/all/cmd/heartbeat      operator dead-man heartbeat for the whole fleet
 *
 * Invariant: every topic has five to seven levels, and a robot is never named `all` (the
 * fleet-wide target), so a topic parses to one meaning only.
 *
 * The last level of a reset, resume or episode mark is the sender's MQTT username. The broker's ACL lets a user
 * write only under its own name (both brokers, from acl.ts), so that level is the identity the
 * broker authenticated; the payload's `operator` field is only checked against it.
 */

export const TOPIC_ROOT = 'spinal/v1';
export const FLEET_TARGET = 'all';

/** Names of fleets, robots and users: one topic level, no wildcards, no `$`, no `/`. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export type RobotChannel = 'status' | 'state' | 'brief' | 'event' | 'task';
export type CommandKind = 'estop' | 'reset' | 'resume' | 'episode' | 'heartbeat';
/** Commands whose topic ends with the sender's username (authorisation decisions depend on who sent them). */
export type SignedCommandKind = 'reset' | 'resume' | 'episode';
export const SIGNED_COMMANDS: readonly CommandKind[] = ['reset', 'resume', 'episode'];
export const COMMAND_KINDS: readonly CommandKind[] = ['estop', 'reset', 'resume', 'episode', 'heartbeat'];
export const ROBOT_CHANNELS: readonly RobotChannel[] = ['status', 'state', 'brief', 'event', 'task'];
/** Commands an operator may send fleet-wide (a fleet reset or resume is deliberately not one of them). */
export const FLEET_COMMANDS: readonly CommandKind[] = ['estop', 'heartbeat'];

export class TopicNameError extends Error {
  override readonly name = 'TopicNameError';
}

/** Throws TopicNameError naming the value when `value` cannot be a `what` name. */
export function checkName(what: 'fleet' | 'robot' | 'user', value: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw new TopicNameError(`${what} name ${JSON.stringify(value)} must be 1-64 letters, digits, "_" or "-", starting with a letter or digit`);
  }
  if (what === 'robot' && value === FLEET_TARGET) {
    throw new TopicNameError(`robot name "${FLEET_TARGET}" is reserved for fleet-wide topics`);
  }
  return value;
}

export interface RobotTopics {
  status: string;
  state: string;
  brief: string;
  event: string;
  /** Retained: the robot's current task, written by the brain replicas (the task store). */
  task: string;
  estop: string;
  heartbeat: string;
  /** The reset topic for a reset sent by `operator` (the sender's own MQTT username). */
  resetBy(operator: string): string;
  /** The resume topic for a resume sent by `operator` (the sender's own MQTT username). */
  resumeBy(operator: string): string;
  /** The episode-mark topic for a mark sent by `operator` (the sender's own MQTT username). */
  episodeBy(operator: string): string;
  /** Subscription filter for this robot's resets, whoever sends them. */
  resets: string;
  /** Subscription filter for this robot's resumes, whoever sends them. */
  resumes: string;
  /** Subscription filter for this robot's episode marks, whoever sends them. */
  episodes: string;
  /** Subscription filter for this robot's own commands. */
  commands: string;
}

export interface FleetTopics {
  estop: string;
  heartbeat: string;
  /** Subscription filter for fleet-wide commands. */
  commands: string;
  /** Subscription filter for everything of the fleet (dashboards). */
  everything: string;
  /** Subscription filter for every robot's task (brains). */
  tasks: string;
}

export function robotTopics(fleet: string, robot: string): RobotTopics {
  const base = `${TOPIC_ROOT}/${checkName('fleet', fleet)}/${checkName('robot', robot)}`;
  return {
    status: `${base}/status`,
    state: `${base}/state`,
    brief: `${base}/brief`,
    event: `${base}/event`,
    task: `${base}/task`,
    estop: `${base}/cmd/estop`,
    resetBy: (operator) => `${base}/cmd/reset/${checkName('user', operator)}`,
    resumeBy: (operator) => `${base}/cmd/resume/${checkName('user', operator)}`,
    episodeBy: (operator) => `${base}/cmd/episode/${checkName('user', operator)}`,
    heartbeat: `${base}/cmd/heartbeat`,
    resets: `${base}/cmd/reset/+`,
    resumes: `${base}/cmd/resume/+`,
    episodes: `${base}/cmd/episode/+`,
    commands: `${base}/cmd/#`,
  };
}

export function fleetTopics(fleet: string): FleetTopics {
  const base = `${TOPIC_ROOT}/${checkName('fleet', fleet)}`;
  return {
    estop: `${base}/${FLEET_TARGET}/cmd/estop`,
    heartbeat: `${base}/${FLEET_TARGET}/cmd/heartbeat`,
    commands: `${base}/${FLEET_TARGET}/cmd/#`,
    everything: `${base}/#`,
    tasks: `${base}/+/task`,
  };
}

export type ParsedTopic =
  | { kind: 'command'; fleet: string; scope: 'robot'; robot: string; command: 'estop' | 'heartbeat' }
  | { kind: 'command'; fleet: string; scope: 'robot'; robot: string; command: SignedCommandKind; sender: string }
  | { kind: 'command'; fleet: string; scope: 'fleet'; command: CommandKind }
  | { kind: 'channel'; fleet: string; robot: string; channel: RobotChannel };

/** Parses a concrete topic of the contract; null for anything else (wrong root, shape or name). */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length < 5 || parts.length > 7 || parts[0] !== 'spinal' || parts[1] !== 'v1') return null;
  const fleet = parts[2] as string;
  const target = parts[3] as string;
  if (!NAME_PATTERN.test(fleet) || !NAME_PATTERN.test(target)) return null;
  if (parts.length === 5) {
    const channel = parts[4] as RobotChannel;
    if (target === FLEET_TARGET || !ROBOT_CHANNELS.includes(channel)) return null;
    return { kind: 'channel', fleet, robot: target, channel };
  }
  const command = parts[5] as CommandKind;
  if (parts[4] !== 'cmd' || !COMMAND_KINDS.includes(command)) return null;
  if (target === FLEET_TARGET) return parts.length === 6 && FLEET_COMMANDS.includes(command) ? { kind: 'command', fleet, scope: 'fleet', command } : null;
  if (command === 'reset' || command === 'resume' || command === 'episode') {
    // Only with the sender's name: a signed command without one names nobody the broker vouched for.
    const sender = parts[6];
    if (sender === undefined || !NAME_PATTERN.test(sender)) return null;
    return { kind: 'command', fleet, scope: 'robot', robot: target, command, sender };
  }
  if (parts.length !== 6) return null;
  return { kind: 'command', fleet, scope: 'robot', robot: target, command };
}
