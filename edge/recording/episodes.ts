/**
 * Episodes on `/spinal/episode`: a task from the brain opens one (and ends the one before it with
 * the outcome an operator last marked on it, else 'aborted'), an empty task ends it, an operator's mark annotates or ends it,
 * and an e-stop ends it with outcome 'estop'. Records go through the RecordingBus, so the recorder
 * and the live view both see them.
 *
 * Invariant: at most one episode is open; indices count up from 1 and never repeat in a run; every
 * 'start' is followed by exactly one 'end' of the same index (close() ends an open one, 'aborted').
 */
import { Topic, type EpisodeMarkRequest, type EpisodeMarkResult, type EpisodeOutcome, type EpisodeRecord, type RecordingSink } from '../../proto/recording/channels.js';



const OUTCOMES: ReadonlySet<string> = new Set(['success', 'failure', 'intervention']);

export class EpisodeTracker {
  private open: { index: number; taskId: string; task: string; marked: EpisodeOutcome | null } | null = null;
  private next = 1;
  private taskId = '';
  private task = '';

  /** `now` gives host µs; `logTimeNs` maps them to the MCAP log time. */
  constructor(private readonly sink: RecordingSink, private readonly now: () => number, private readonly logTimeNs: (hostUs: number) => bigint) {}

  /** The open episode's index, or null between episodes. */
  get current(): number | null {
    return this.open?.index ?? null;
  }

  /** The brain's task for this robot changed (empty instruction: no task). */
  onTask(taskId: string, instruction: string): void {
    if (taskId === this.taskId && instruction === this.task) return;
    this.end(this.open?.marked ?? 'aborted', 'task', 'task changed');
    this.taskId = taskId;
    this.task = instruction;
    if (instruction === '') return;
    const index = this.next++;
    this.open = { index, taskId, task: instruction, marked: null };
    this.emit({ kind: 'start', index, taskId, task: instruction, source: 'task' });
  }

  /** An e-stop ends the open episode. */
  onEstop(detail: string): void {
    this.end('estop', 'safety', detail);
  }

  /** An operator's mark; `end` closes the episode with the outcome. Refused between episodes. */
  mark(req: EpisodeMarkRequest): EpisodeMarkResult {
    if (!OUTCOMES.has(req.outcome)) return { accepted: false, reason: `outcome ${JSON.stringify(req.outcome)} must be success, failure or intervention` };
    if (typeof req.operator !== 'string' || req.operator === '') return { accepted: false, reason: 'operator must be a non-empty string' };
    const o = this.open;
    if (o === null) return { accepted: false, reason: 'no episode is open' };
    if (req.end) this.end(req.outcome, req.operator, req.note);
    else {
      o.marked = req.outcome;
      this.emit({ kind: 'mark', index: o.index, taskId: o.taskId, task: o.task, outcome: req.outcome, source: req.operator, ...(req.note !== undefined ? { note: req.note } : {}) });
    }
    return { accepted: true, episode: o.index };
  }

  /** Ends an open episode (its marked outcome, else 'aborted'): the daemon is stopping. */
  close(): void {
    this.end(this.open?.marked ?? 'aborted', 'shutdown', 'daemon stopping');
  }

  private end(outcome: EpisodeOutcome, source: string, note?: string): void {
    const o = this.open;
    if (o === null) return;
    this.open = null;
    this.emit({ kind: 'end', index: o.index, taskId: o.taskId, task: o.task, outcome, source, ...(note !== undefined ? { note } : {}) });
  }

  private emit(r: Omit<EpisodeRecord, 'hostUs'>): void {
    const hostUs = this.now();
    this.sink.publish(Topic.episode, this.logTimeNs(hostUs), { hostUs, ...r });
  }
}
