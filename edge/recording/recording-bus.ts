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

  constructor(private readonly onSinkError: (err: unknown, sink: RecordingSink) => void = () => undefined) {}

  /** True when a sink is attached: callers may skip building a message nobody takes. */
  get active(): boolean {
    return this.sinks.length > 0;
  }

  /** Attaches a sink; the returned function detaches it. */
  attach(sink: RecordingSink): () => void {
    this.sinks = [...this.sinks, sink];
    return () => { this.sinks = this.sinks.filter((s) => s !== sink); };
  }

  publish(topic: string, logTimeNs: bigint, message: object): void {
    // The array is replaced, never mutated, so a sink detached during the loop is not skipped over.
    for (const sink of this.sinks) {
      try {
        sink.publish(topic, logTimeNs, message);
      } catch (err) {
        this.sinks = this.sinks.filter((s) => s !== sink);
        this.onSinkError(err, sink);
      }
    }
  }
}
