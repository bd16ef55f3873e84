/**
 * Bounds how much of one turn of the event loop the embedded broker spends reading robots'
 * connections, so that what operators send (e-stops above all) is read and delivered within a
 * turn of bounded length whatever the fleet's telemetry rate.
 *
 * Why: Node reads every readable socket in the poll phase, and aedes parses and publishes what it
 * read at once. At 1000 robots x 20 Hz the broker used a whole core, each turn of its loop took
 * longer as more telemetry arrived during the last, and an operator's e-stop waited behind it:
 * p50 0.5-2.5 s (`npm run bench -- broker-load`, docs/scaling.md). With the gate, once robots'
 * reads have used `budgetMs` of a turn, the other robots' reads wait for the next turn (their
 * data stays in the kernel, and TCP slows the robots down: the edge then skips state summaries,
 * robot-mqtt.ts), while operators', viewers' and brains' connections are always read.
 *
 * Invariants: a deferred reader is resumed exactly once, in a later turn, in the order it was
 * deferred (no robot is starved: the oldest is resumed first); a turn ends in the check phase after
 * it opened; with nothing deferred no timer or immediate stays scheduled (an idle broker sleeps).
 */
export class IngestGate {
  private turnStart = -1;
  private readonly deferred: (() => void)[] = [];

  /**
   * `now` in ms (performance.now by default) and `later` (runs a function in the check phase:
   * setImmediate by default) are injectable for tests.
   */
  constructor(
    readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly later: (fn: () => void) => void = (fn) => { setImmediate(fn); },
  ) {
    if (!(Number.isFinite(budgetMs) && budgetMs > 0)) throw new RangeError(`ingest budgetMs=${budgetMs} must be > 0`);
  }

  /** Readers waiting for a later turn. */
  get waiting(): number {
    return this.deferred.length;
  }

  /**
   * Whether a gated connection may read now. When not, `resume` is called once in a later turn
   * (the caller must not ask again for that connection until then).
   */
  mayRead(resume: () => void): boolean {
    const t = this.now();
    if (this.turnStart < 0) {
      this.turnStart = t;
      this.later(this.endTurn);
    }
    if (t - this.turnStart < this.budgetMs) return true;
    this.deferred.push(resume);
    return false;
  }

  private readonly endTurn = (): void => {
    this.turnStart = -1;
    // Resumed readers read at once, in this new turn, until its budget is used; the rest defer again, in order.
    for (const resume of this.deferred.splice(0)) resume();
  };
}

/** What gateReads needs of aedes' client: its read loop's entry (called on 'readable' and after each batch). */
interface ReadLoop {
  _nextBatch?: () => void;
}

/**
 * Gates `stream`'s reads by aedes through `gate` while `gated()` says so (a robot's connection
 * once authenticated). Only aedes' reads of whole batches (read() without a size) are gated;
 * Node's own read(0) calls, which only fill the stream's buffer, pass.
 */
export function gateReads(stream: { read(size?: number): unknown; destroyed: boolean; client?: unknown }, gate: IngestGate, gated: () => boolean): void {
  const read = stream.read.bind(stream);
  let waiting = false;
  const resume = (): void => {
    waiting = false;
    const loop = stream.client as ReadLoop | undefined;
    if (!stream.destroyed) loop?._nextBatch?.();
  };
  stream.read = (size?: number): unknown => {
    if (size === 0) return read(size);
    if (waiting) return null;
    if (!gated() || gate.mayRead(resume)) return read(size);
    waiting = true;
    return null;
  };
}
