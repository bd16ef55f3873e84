/**
 * The operator's view of the MQTT contract, one entry per topic: who publishes, QoS, retain, the
 * payload schema, what a refused or malformed message does, and examples that work with
 * `mosquitto_pub`. docs/mqtt.md is generated from this (mqtt-doc.ts) together with the schemas
 * and the ACL in proto/mqtt, and test/e2e/mqtt-reference.e2e.test.ts runs every example against
 * the embedded broker and a robot and checks the effect written here.
 */
import type { z } from 'zod';
import {
  EpisodeMarkCommandSchema, EstopCommandSchema, EstopReleaseSchema, HeartbeatSchema, ResetCommandSchema, ResumeCommandSchema,
  RobotStatusSchema, SafetyEventSchema, StateBriefSchema, StateSummarySchema, TaskRecordSchema,
} from '../mqtt/index.js';

/** Names used in the examples (the demo fleet's shape). */
export const EXAMPLE = { fleet: 'demo', robot: 'r1', operator: 'alice', viewer: 'vic' } as const;

/** Placeholder for "now, epoch ms" in a shell command: `date +%s%3N`. */
export const NOW = '$(date +%s%3N)';

export interface TopicExample {
  title: string;
  /** Who publishes it (an example account name from EXAMPLE). */
  user: string;
  topic: string;
  qos: 0 | 1;
  retain: boolean;
  /** The payload as it is typed in the shell (may contain NOW). */
  payload: string;
  /** What the robot does, as the safety event it publishes on its `event` topic (fields that must match). */
  effect: { kind: string; [field: string]: string | number | boolean };
  /** The effect in words. */
  says: string;
}

export interface TopicEntry {
  /** With <fleet>, <robot>, <operator> for the levels that vary. */
  pattern: string;
  /** A concrete topic of this pattern for EXAMPLE's names (the ACL table is computed on it). */
  example: string;
  publisher: string;
  qos: 0 | 1;
  retain: string;
  payload: { name: string; schema: z.ZodType }[];
  purpose: string;
  /** What a receiver does with a message it refuses or cannot parse. */
  refused: string;
  examples: TopicExample[];
}

const base = `spinal/v1/${EXAMPLE.fleet}`;
const robotBase = `${base}/${EXAMPLE.robot}`;

export const TOPICS: TopicEntry[] = [
  {
    pattern: 'spinal/v1/<fleet>/<robot>/status', example: `${robotBase}/status`, publisher: 'the robot', qos: 1,
    retain: 'yes: birth on connect, death (`online: false`) from the broker\'s will or a clean stop',
    payload: [{ name: 'RobotStatus', schema: RobotStatusSchema }],
    purpose: 'whether the robot is connected, and its software version',
    refused: 'the dashboard ignores a status it cannot parse', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/state', example: `${robotBase}/state`, publisher: 'the robot', qos: 0, retain: 'no',
    payload: [{ name: 'StateSummary', schema: StateSummarySchema }],
    purpose: 'telemetry at 10-50 Hz: what was sent to the motors, what was measured, safety, link, timing. A summary is a latest value: the robot skips one (and its brief) while more than 16 KiB it sent before still waits on its connection, and a broker may skip it for a subscriber that fell behind',
    refused: 'the dashboard drops a summary it cannot parse', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/brief', example: `${robotBase}/brief`, publisher: 'the robot', qos: 0, retain: 'no',
    payload: [{ name: 'StateBrief', schema: StateBriefSchema }],
    purpose: 'the few fields a fleet overview shows, 1 Hz and at once when a discrete field changes',
    refused: 'the dashboard drops a brief it cannot parse', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/event', example: `${robotBase}/event`, publisher: 'the robot', qos: 1, retain: 'no',
    payload: [{ name: 'SafetyEvent', schema: SafetyEventSchema }],
    purpose: 'safety events: transitions, e-stops received, resets and resumes accepted or refused, link changes',
    refused: 'the dashboard drops an event it cannot parse', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/task', example: `${robotBase}/task`, publisher: 'a brain replica (account of role `brain`)', qos: 1,
    retain: 'yes: the robot\'s current task, the record every brain replica reads at start (tasks.store "mqtt", docs/scaling.md)',
    payload: [{ name: 'TaskRecord', schema: TaskRecordSchema }],
    purpose: 'where tasks live: the operator\'s instruction for the robot, ordered by (`at`, `writer`, `taskId`) so a stale write never replaces a newer one',
    refused: 'a brain logs and ignores a record that is not valid or names another robot, and one older than the record it holds; it then writes its newer record again', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/cmd/estop', example: `${robotBase}/cmd/estop`, publisher: 'an operator', qos: 1, retain: 'no',
    payload: [{ name: 'EstopCommand', schema: EstopCommandSchema }, { name: 'EstopRelease', schema: EstopReleaseSchema }],
    purpose: 'stop one robot now, with the given stop category',
    refused: 'fail-safe: ANY message here that is not a well-formed e-stop or release (bad JSON, an unknown key such as `role`, an empty payload) stops the robot with category 0 and reports `malformed: true`; a release on a robot topic does nothing',
    examples: [
      {
        title: 'stop robot r1 (category 1)', user: EXAMPLE.operator, topic: `${robotBase}/cmd/estop`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"estop","id":"stop-1","category":1,"operator":"alice","at":${NOW}}`,
        effect: { kind: 'estop-received', scope: 'robot', category: 1, malformed: false, id: 'stop-1', operator: 'alice' },
        says: 'the robot latches an e-stop of category 1 and reports it',
      },
      {
        title: 'a malformed e-stop still stops (category 0)', user: EXAMPLE.operator, topic: `${robotBase}/cmd/estop`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"estop","id":"stop-2","category":1,"operator":"alice","role":"operator","at":${NOW}}`,
        effect: { kind: 'estop-received', scope: 'robot', category: 0, malformed: true },
        says: 'the unknown key `role` makes it malformed: the robot stops with category 0 and reports the problem',
      },
    ],
  },
  {
    pattern: 'spinal/v1/<fleet>/all/cmd/estop', example: `${base}/all/cmd/estop`, publisher: 'an operator', qos: 1,
    retain: 'yes: the retained e-stop is the fleet latch, which also stops a robot that connects later; a retained release replaces it',
    payload: [{ name: 'EstopCommand', schema: EstopCommandSchema }, { name: 'EstopRelease', schema: EstopReleaseSchema }],
    purpose: 'stop every robot of the fleet (STOP ALL), and release the fleet latch',
    refused: 'fail-safe, as for one robot: anything but a well-formed e-stop or release stops every robot with category 0 and asserts the latch',
    examples: [
      {
        title: 'STOP ALL (category 0), retained', user: EXAMPLE.operator, topic: `${base}/all/cmd/estop`, qos: 1, retain: true,
        payload: `{"v":1,"kind":"estop","id":"all-1","category":0,"operator":"alice","at":${NOW}}`,
        effect: { kind: 'fleet-latch', asserted: true, operator: 'alice' },
        says: 'every robot stops and asserts the fleet latch (resets are refused until it is released)',
      },
      {
        title: 'release the fleet latch, retained', user: EXAMPLE.operator, topic: `${base}/all/cmd/estop`, qos: 1, retain: true,
        payload: `{"v":1,"kind":"release","id":"rel-1","operator":"alice","at":${NOW}}`,
        effect: { kind: 'fleet-latch', asserted: false, operator: 'alice' },
        says: 'the latch is released; each robot still needs its own reset',
      },
    ],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/cmd/reset/<operator>', example: `${robotBase}/cmd/reset/${EXAMPLE.operator}`, publisher: 'an operator, under its own username', qos: 1,
    retain: 'never: a retained reset is refused',
    payload: [{ name: 'ResetCommand', schema: ResetCommandSchema }],
    purpose: 'clear one robot\'s e-stop latch (the robot does not move until resumed)',
    refused: 'refused and reported as `reset-refused` with the reason: malformed, retained, `operator` other than the topic\'s username (a forgery), older than the freshness limit, or while the fleet latch is asserted',
    examples: [
      {
        title: 'reset robot r1', user: EXAMPLE.operator, topic: `${robotBase}/cmd/reset/alice`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"reset","id":"reset-1","operator":"alice","at":${NOW}}`,
        effect: { kind: 'reset-accepted', id: 'reset-1', operator: 'alice' },
        says: 'the robot clears its latch (and the MCU\'s) and reports it',
      },
      {
        title: 'a reset naming someone else is refused', user: EXAMPLE.operator, topic: `${robotBase}/cmd/reset/alice`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"reset","id":"reset-2","operator":"bob","at":${NOW}}`,
        effect: { kind: 'reset-refused', id: 'reset-2', operator: 'bob' },
        says: 'refused as a forgery: the broker authenticated alice, the payload names bob',
      },
    ],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/cmd/resume/<operator>', example: `${robotBase}/cmd/resume/${EXAMPLE.operator}`, publisher: 'an operator, under its own username', qos: 1,
    retain: 'never: a retained resume is refused',
    payload: [{ name: 'ResumeCommand', schema: ResumeCommandSchema }],
    purpose: 'let one robot move (IDLE or HOLD to ACTIVE); it still needs a current plan and measurement',
    refused: 'refused and reported as `resume-refused` with the reason, as for reset; also refused by the supervisor when it cannot resume (latched, no plan)',
    examples: [
      {
        title: 'resume robot r1 (refused here: no plan yet)', user: EXAMPLE.operator, topic: `${robotBase}/cmd/resume/alice`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"resume","id":"resume-1","operator":"alice","at":${NOW}}`,
        effect: { kind: 'resume-refused', id: 'resume-1', operator: 'alice' },
        says: 'a robot without a valid plan refuses and says why; with one it reports `resume-accepted`',
      },
    ],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/cmd/episode/<operator>', example: `${robotBase}/cmd/episode/${EXAMPLE.operator}`, publisher: 'an operator, under its own username', qos: 1,
    retain: 'never: a retained mark is refused',
    payload: [{ name: 'EpisodeMarkCommand', schema: EpisodeMarkCommandSchema }],
    purpose: 'label the robot\'s recorded episode: `outcome` success, failure or intervention; `end: true` ends the episode with it, `false` only marks it (the flight recorder writes it on `/spinal/episode`)',
    refused: 'refused and reported as `episode-refused` with the reason: malformed (a bad `outcome` is named), retained, forged, stale, refused by the flight recorder, or no flight recorder on this robot ("recording is off"); the fleet latch does not refuse it',
    examples: [
      {
        title: 'mark robot r1\'s episode a success and end it (refused here: no flight recorder)', user: EXAMPLE.operator, topic: `${robotBase}/cmd/episode/alice`, qos: 1, retain: false,
        payload: `{"v":1,"kind":"episode","id":"mark-1","operator":"alice","at":${NOW},"outcome":"success","end":true}`,
        effect: { kind: 'episode-refused', id: 'mark-1', operator: 'alice' },
        says: 'a robot without a flight recorder answers that recording is off; with one it reports `episode-marked`',
      },
    ],
  },
  {
    pattern: 'spinal/v1/<fleet>/<robot>/cmd/heartbeat', example: `${robotBase}/cmd/heartbeat`, publisher: 'an operator', qos: 0, retain: 'no',
    payload: [{ name: 'Heartbeat', schema: HeartbeatSchema }],
    purpose: 'the operator\'s dead-man: when configured, a robot stops when heartbeats stop for its timeout',
    refused: 'a malformed heartbeat is ignored (it does not keep the robot alive)', examples: [],
  },
  {
    pattern: 'spinal/v1/<fleet>/all/cmd/heartbeat', example: `${base}/all/cmd/heartbeat`, publisher: 'an operator', qos: 0, retain: 'no',
    payload: [{ name: 'Heartbeat', schema: HeartbeatSchema }],
    purpose: 'the dead-man heartbeat for every robot of the fleet',
    refused: 'a malformed heartbeat is ignored', examples: [],
  },
];

/** The shell command of an example (mosquitto_pub, password left to the operator's config). */
export function mosquittoPub(e: TopicExample, host = 'localhost', port = 1883): string {
  return `mosquitto_pub -h ${host} -p ${port} -u ${e.user} -P "$PASSWORD" -q ${e.qos}${e.retain ? ' -r' : ''} -t '${e.topic}' -m "${e.payload.replace(/"/g, '\\"')}"`;
}
