/**
 * The daemon's one place to publish recorded messages: the flight recorder (MCAP) and the live view
 * (Foxglove WebSocket) attach to it as sinks. Publishing is a loop over the attached sinks and
 * nothing else, so a daemon with neither pays one empty loop per message.
 *
 * Invariant: `publish` never throws on its caller (the caller sits next to the safety logic). A
 * sink that throws is detached and the error is handed to `onSinkError` once; the other sinks go on.
 */
import type { RecordingSink } from '../../proto/recording/channels.js';

export class RecordingBus implements RecordingSink {
  private sinks: RecordingSink[] = [];
  /** Per sink, whether it takes nothing at the moment (a live view with no subscriber). */
  private readonly idle = new Map<RecordingSink, () => boolean>();

  constructor(private readonly onSinkError: (err: unknown, sink: RecordingSink) => void = () => undefined) {}

  /** True when an attached sink takes messages now: callers may skip building one nobody takes. */
  get active(): boolean {
    for (const sink of this.sinks) if (this.idle.get(sink)?.() !== true) return true;
    return false;
  }

  /**
   * Attaches a sink; the returned function detaches it. `idle`, when given, says whether the sink
   * takes nothing at the moment (the bus is then not `active` on its account).
   */
  attach(sink: RecordingSink, idle?: () => boolean): () => void {
    this.sinks = [...this.sinks, sink];
    if (idle !== undefined) this.idle.set(sink, idle);
    return () => { this.sinks = this.sinks.filter((s) => s !== sink); this.idle.delete(sink); };
  }

  publish(topic: string, logTimeNs: bigint, message: object): void {
    // The array is replaced, never mutated, so a sink detached during the loop is not skipped over.
    for (const sink of this.sinks) {
      try {
        sink.publish(topic, logTimeNs, message);
      } catch (err) {
        this.sinks = this.sinks.filter((s) => s !== sink);
        this.idle.delete(sink);
        this.onSinkError(err, sink);
      }
    }
  }
}
