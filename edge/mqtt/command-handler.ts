/**
 * Routes commands arriving on a robot's subscriptions. The e-stop path is synchronous from the
 * MQTT 'message' callback to the serial write: decode (fail safe), SerialLink.sendEstop, then the
 * supervisor, then reporting. No timer, queue or await sits before the wire.
 *
 * Invariants:
 * - every message on an e-stop topic that is not a well-formed release puts ESTOP on the wire;
 * - `fleetLatch` is true from a fleet e-stop (malformed included) until a well-formed release;
 * - a reset or a resume reaches the supervisor only when live (not retained), well-formed, sent
 *   by the operator its topic names (and an allowed operator when a list is configured), fresh,
 *   and with no fleet latch. Both are per robot: a fleet-wide topic for either does not parse.
 * - an episode mark reaches the flight recorder (EpisodeMarkSink) under the same conditions as a
 *   reset except the fleet latch (marking an episode a failure while stopped is what one does);
 *   without a recorder it is refused with "recording is off". It never touches the motion path.
 * - who sent a reset, resume or episode mark is the topic's last level, which the broker's ACL lets only that
 *   operator write (proto/mqtt/acl.ts); the payload's `role` is ignored and an `operator` naming
 *   anyone else is refused and reported as a forgery.
 */
import {
  decodeEpisodeMark, decodeEstopMessage, decodeHeartbeat, decodeReset, decodeResume, fleetTopics, parseTopic, type EpisodeMarkCommand, type ResetCommand, type ResumeCommand,
} from '../../proto/mqtt/index.js';
import { EstopReason, EstopSource } from '../../proto/wire/index.js';
import type { DeadmanWatch } from './deadman-watch.js';
import {
  silentLogger, type EpisodeMarkSink, type EstopSink, type EventReporter, type HeartbeatSink, type MqttLogger, type ResetOutcome, type ResetSink, type ResumeOutcome, type ResumeSink, type WireStop,
} from './ports.js';

export interface CommandHandlerOptions {
  fleet: string;
  robot: string;
  wire: WireStop;
  estop: EstopSink;
  reset: ResetSink;
  /** Remote resume; absent: every resume is refused (reported) and motion starts in-process only. */
  resume?: ResumeSink;
  /** The flight recorder's episode marks; absent: every mark is refused ("recording is off"). */
  episodes?: EpisodeMarkSink;
  events: EventReporter;
  deadman?: DeadmanWatch | null;
  /** Also told of every well-formed heartbeat (a supervisor that keeps its own dead-man timer). */
  heartbeat?: HeartbeatSink;
  /** Operators allowed to reset and resume, checked on top of the broker's ACL; empty or absent: any operator. */
  operators?: readonly string[];
  /** A reset or resume older (or further in the future) than this is refused; 0 disables. Default 30 s. */
  resetMaxAgeMs?: number;
  /** Wall clock, epoch ms. */
  now?: () => number;
  logger?: MqttLogger;
}

export class CommandHandler {
  private latched = false;
  private readonly logger: MqttLogger;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly fleetEstopTopic: string;

  constructor(private readonly opts: CommandHandlerOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.maxAgeMs = opts.resetMaxAgeMs ?? 30_000;
    this.fleetEstopTopic = fleetTopics(opts.fleet).estop;
  }

  /** True while the retained fleet e-stop is asserted (as last seen). */
  get fleetLatch(): boolean {
    return this.latched;
  }

  /** Handles one message; never throws. */
  handle(topic: string, payload: Uint8Array, retained: boolean): void {
    const t = parseTopic(topic);
    const mine = t?.kind === 'command' && t.fleet === this.opts.fleet && (t.scope === 'fleet' || t.robot === this.opts.robot);
    if (!t || t.kind !== 'command' || !mine) {
      this.logger.warn({ topic }, 'message on a topic this robot does not handle: ignored');
      return;
    }
    if (t.command === 'estop') this.onEstop(t.scope, payload, topic);
    else if (t.command === 'heartbeat') this.onHeartbeat(payload);
    else if (t.scope === 'robot' && t.command === 'reset') void this.onReset(payload, retained, t.sender);
    else if (t.scope === 'robot' && t.command === 'resume') this.onResume(payload, retained, t.sender);
    else if (t.scope === 'robot' && t.command === 'episode') this.onEpisode(payload, retained, t.sender);
  }

  private onEstop(scope: 'robot' | 'fleet', payload: Uint8Array, topic: string): void {
    const d = decodeEstopMessage(payload);
    if (d.kind === 'release') {
      if (scope === 'fleet') this.setLatch(false, d.release.operator);
      return;
    }
    const reason = d.malformed ? EstopReason.MALFORMED_ESTOP : scope === 'fleet' ? EstopReason.FLEET : EstopReason.REMOTE;
    // The wire first: this is the whole point of the fast path.
    const wireSent = this.opts.wire.sendEstop(d.category, EstopSource.REMOTE, reason);
    const operator = d.malformed ? undefined : d.command.operator;
    try {
      // The supervisor latches and records the frame already sent; it does not send a second one.
      this.opts.estop.remoteEstop({ scope, category: d.category, malformed: d.malformed, onWire: wireSent, ...(operator !== undefined ? { operator } : {}) });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, topic }, 'supervisor remoteEstop threw; ESTOP was already on the wire');
    }
    if (scope === 'fleet') this.setLatch(true, operator);
    this.opts.events.report({
      kind: 'estop-received', scope, category: d.category, malformed: d.malformed, wireSent,
      ...(d.malformed ? { problem: d.problem } : { id: d.command.id, operator: d.command.operator }),
    });
    const log = { topic, category: d.category, malformed: d.malformed, wireSent, ...(d.malformed ? { problem: d.problem } : {}) };
    if (wireSent) this.logger.warn(log, 'remote e-stop');
    else this.logger.error(log, 'remote e-stop: serial port not open, ESTOP not on the wire (the MCU watchdog stops the robot)');
  }

  private setLatch(asserted: boolean, operator: string | undefined): void {
    if (this.latched === asserted) return;
    this.latched = asserted;
    this.logger.warn({ topic: this.fleetEstopTopic, asserted, operator }, 'fleet e-stop latch');
    this.opts.events.report({ kind: 'fleet-latch', asserted, ...(operator !== undefined ? { operator } : {}) });
  }

  private async onReset(payload: Uint8Array, retained: boolean, sender: string): Promise<void> {
    if (retained) return this.refuseCommand('reset', 'a retained reset is never applied: resets must be live commands');
    const r = decodeReset(payload);
    if (!r.ok) return this.refuseCommand('reset', r.problem);
    const cmd = r.value;
    const problem = this.commandProblem('reset', cmd, sender);
    if (problem) return this.refuseCommand('reset', problem, cmd);
    let outcome: ResetOutcome;
    try {
      // 'operator': only operators' accounts may write under cmd/reset/<own name> (the broker's ACL).
      const r = await this.opts.reset.reset({ id: sender, role: 'operator' });
      outcome = typeof r !== 'boolean' ? r : r ? { accepted: true } : { accepted: false, reason: 'see the supervisor\'s refusal' };
    } catch (err) {
      return this.refuseCommand('reset', `supervisor failed: ${(err as Error).message}`, cmd);
    }
    if (!outcome.accepted) return this.refuseCommand('reset', `supervisor refused: ${outcome.reason}`, cmd);
    this.logger.warn({ operator: cmd.operator, id: cmd.id }, 'reset accepted');
    this.opts.events.report({ kind: 'reset-accepted', id: cmd.id, operator: cmd.operator });
  }

  /** Why a reset or resume may not reach the supervisor; null when it may. `sender`: the username the broker vouched for. */
  private commandProblem(what: 'reset' | 'resume' | 'episode mark', cmd: ResetCommand | ResumeCommand | EpisodeMarkCommand, sender: string): string | null {
    if (cmd.operator !== sender) return `forged ${what}: the payload names operator ${JSON.stringify(cmd.operator)} but the broker authenticated ${JSON.stringify(sender)}`;
    const allowed = this.opts.operators;
    if (allowed && allowed.length > 0 && !allowed.includes(sender)) return `operator ${JSON.stringify(sender)} is not authorised to ${what} this robot`;
    const ageMs = this.now() - cmd.at;
    if (this.maxAgeMs > 0 && Math.abs(ageMs) > this.maxAgeMs) return `${what}.at=${cmd.at} is ${Math.round(ageMs)} ms from now (limit ${this.maxAgeMs} ms)`;
    if (this.latched && what !== 'episode mark') return `fleet e-stop latch is asserted on ${this.fleetEstopTopic}; release it first`;
    return null;
  }

  /** Reports and logs a refused reset or resume; the command, when it parsed, is named. */
  private refuseCommand(what: 'reset' | 'resume', reason: string, cmd?: ResetCommand | ResumeCommand): void {
    this.logger.warn({ reason, id: cmd?.id, operator: cmd?.operator }, `${what} refused`);
    this.opts.events.report({
      kind: what === 'reset' ? 'reset-refused' : 'resume-refused', reason,
      ...(cmd ? { id: cmd.id, operator: cmd.operator } : {}),
    });
  }

  /** Synchronous: the supervisor's resume() is (nothing sits between the message and ACTIVE). */
  private onResume(payload: Uint8Array, retained: boolean, sender: string): void {
    if (retained) return this.refuseCommand('resume', 'a retained resume is never applied: resumes must be live commands');
    const r = decodeResume(payload);
    if (!r.ok) return this.refuseCommand('resume', r.problem);
    const cmd = r.value;
    const problem = this.commandProblem('resume', cmd, sender);
    if (problem) return this.refuseCommand('resume', problem, cmd);
    const sink = this.opts.resume;
    if (!sink) return this.refuseCommand('resume', 'this robot does not accept a remote resume', cmd);
    let outcome: ResumeOutcome;
    try {
      const o = sink.resume({ id: sender, role: 'operator' });
      outcome = typeof o !== 'boolean' ? o : o ? { accepted: true } : { accepted: false, reason: 'see the supervisor\'s refusal' };
    } catch (err) {
      return this.refuseCommand('resume', `supervisor failed: ${(err as Error).message}`, cmd);
    }
    if (!outcome.accepted) return this.refuseCommand('resume', `supervisor refused: ${outcome.reason}`, cmd);
    this.logger.warn({ operator: cmd.operator, id: cmd.id }, 'resume accepted');
    this.opts.events.report({ kind: 'resume-accepted', id: cmd.id, operator: cmd.operator });
  }

  private onEpisode(payload: Uint8Array, retained: boolean, sender: string): void {
    const refuse = (reason: string, cmd?: EpisodeMarkCommand): void => {
      this.logger.warn({ reason, id: cmd?.id, operator: cmd?.operator }, 'episode mark refused');
      this.opts.events.report({ kind: 'episode-refused', reason, ...(cmd ? { id: cmd.id, operator: cmd.operator } : {}) });
    };
    if (retained) return refuse('a retained episode mark is never applied: marks must be live commands');
    const r = decodeEpisodeMark(payload);
    if (!r.ok) return refuse(r.problem);
    const cmd = r.value;
    const problem = this.commandProblem('episode mark', cmd, sender);
    if (problem) return refuse(problem, cmd);
    const sink = this.opts.episodes;
    if (!sink) return refuse('recording is off: this robot has no flight recorder configured', cmd);
    let why: unknown;
    try {
      why = sink.mark({ outcome: cmd.outcome, end: cmd.end, operator: sender, ...(cmd.note !== undefined ? { note: cmd.note } : {}) });
    } catch (err) {
      return refuse(`flight recorder failed: ${(err as Error).message}`, cmd);
    }
    if (typeof why === 'string') return refuse(`flight recorder refused: ${why}`, cmd);
    this.logger.info({ operator: sender, id: cmd.id, outcome: cmd.outcome, end: cmd.end }, 'episode mark taken');
    this.opts.events.report({ kind: 'episode-marked', id: cmd.id, operator: sender, outcome: cmd.outcome, end: cmd.end });
  }

  private onHeartbeat(payload: Uint8Array): void {
    const r = decodeHeartbeat(payload);
    if (!r.ok) {
      this.logger.debug({ problem: r.problem }, 'malformed heartbeat ignored (it does not keep the robot alive)');
      return;
    }
    this.opts.deadman?.beat();
    this.opts.heartbeat?.operatorHeartbeat();
  }
}
