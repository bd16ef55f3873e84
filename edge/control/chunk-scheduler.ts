/**
 * Chunk scheduling, pure: no clock, no I/O, no threads — every call takes the present time in µs
 * (host clock), so tests drive it with a ManualClock and a fake decoder, and the control worker
 * runs the same code at its tick rate. Allocation-free after construction (the prefix buffer is
 * reused; a caller that keeps it must copy).
 *
 * - Alignment: a chunk is aligned to the capture time of the observation it was computed from
 *   (originUs); row h targets originUs + (h+1)·stepUs.
 * - Past actions are dropped: sampling is by time, so rows whose time has passed on arrival are
 *   never used; they are counted in `droppedRows`.
 * - Early requests: a request is due when the newest chunk has less than lead = latency estimate
 *   (max of the recent measured request→arrival times) + margin + the policy's overlap left.
 * - Switching: SwitchPolicy (switch-policy.ts).
 * - Request state and alignment (requestState()): while the robot follows the schedule, a request
 *   carries the scheduled target at the chunk's expected arrival (now + latency estimate) and its
 *   chunk is aligned to that time, not to the observation's. What runs until the chunk arrives is
 *   committed; the new chunk continues from its end (real-time chunking's committed prefix, in
 *   state form). A request made from the measurement instead saw a robot that lags the command
 *   (the servo's tracking lag) and, by the time the chunk arrives, predates every action executed
 *   while it was decoded: a decoder that reads its progress along the plan from the state (the
 *   reference decoder does) restarted the motion that much later at every chunk and the switch
 *   pulled the robot back (a 120 ms decoder: success 0.6, the acceleration clamp on most ticks).
 *   When no chunk covers the observation's time, or the robot is off the schedule (held, blocked,
 *   pushed: beyond followToleranceRad), the measurement is the state and the robot does not move
 *   along the chunk meanwhile: that chunk starts when it arrives (accept()).
 *
 * Invariant: `inFlight` is true from requestIssued() until accept() or requestFailed().
 */
import { ChunkStore, type ChunkSlot } from './chunk-store.js';
import { SwitchPolicy, type SchedulerOptions } from './switch-policy.js';

export interface PrefixPlan {
  /** Rows filled in the prefix buffer (the old trajectory at the new chunk's row times). */
  rows: number;
  /** Rows [0, committed) will have been executed before the new chunk can arrive. */
  committed: number;
}

export class ChunkScheduler {
  readonly policy: SwitchPolicy;
  readonly jointCount: number;
  readonly horizon: number;
  readonly stepUs: number;
  /** Rows that had already passed when their chunk arrived. */
  droppedRows = 0;
  /** Chunks refused because they were older than the newest or wholly in the past. */
  staleChunks = 0;
  /** Reused [H, A] buffer filled by planPrefix(). */
  readonly prefix: Float32Array;

  private readonly store: ChunkStore;
  private readonly crossfadeUs: number;
  private readonly decay: number;
  private readonly overlapUs: number;
  private readonly marginUs: number;
  private readonly retryUs: number;
  private readonly latencies: Float64Array;
  private latencyCount = 0;
  private readonly initialLatencyUs: number;
  private inFlight = false;
  private requestedAtUs = Number.NaN;
  private notBeforeUs = Number.NEGATIVE_INFINITY;
  /** The request in flight was made from a measurement, not from the schedule: its chunk starts on arrival. */
  private startsOnArrival = false;
  private requestedOriginUs = Number.NaN;
  private readonly fromSchedule: boolean;
  private readonly followTolRad: number;
  private readonly tmp: Float64Array;
  private readonly acc: Float64Array;

  constructor(o: SchedulerOptions) {
    if (!(o.stepUs > 0) || !(o.horizon > 0) || !(o.jointCount > 0)) throw new RangeError(`ChunkScheduler: stepUs ${o.stepUs}, horizon ${o.horizon}, jointCount ${o.jointCount} must be > 0`);
    this.policy = o.policy;
    this.jointCount = o.jointCount;
    this.horizon = o.horizon;
    this.stepUs = o.stepUs;
    this.crossfadeUs = o.crossfadeUs ?? 4 * o.stepUs;
    this.decay = o.ensembleDecay ?? 0.1;
    const chunkUs = o.horizon * o.stepUs;
    this.overlapUs = o.policy === SwitchPolicy.CROSSFADE ? this.crossfadeUs
      : o.policy === SwitchPolicy.ENSEMBLE ? (o.ensembleOverlapUs ?? chunkUs / 2) : 0;
    this.marginUs = o.latencyMarginUs ?? 20_000;
    this.retryUs = o.retryUs ?? 20_000;
    this.initialLatencyUs = o.initialLatencyUs ?? 100_000;
    this.fromSchedule = (o.requestState ?? 'schedule') === 'schedule';
    this.followTolRad = o.followToleranceRad ?? 0.2;
    this.latencies = new Float64Array(o.latencyWindow ?? 16);
    const capacity = o.policy === SwitchPolicy.ENSEMBLE ? (o.maxChunks ?? 8) : 2;
    this.store = new ChunkStore(capacity, o.horizon, o.jointCount, o.stepUs);
    this.prefix = new Float32Array(o.horizon * o.jointCount);
    this.tmp = new Float64Array(o.jointCount);
    this.acc = new Float64Array(o.jointCount);
  }

  /** The decode latency the lead is sized for, µs: max of the recent window (or the initial guess). */
  latencyEstimateUs(): number {
    const n = Math.min(this.latencyCount, this.latencies.length);
    if (n === 0) return this.initialLatencyUs;
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, this.latencies[i] as number);
    return m;
  }

  /** How long before the newest chunk runs out a request is issued, µs. */
  leadUs(): number {
    return this.latencyEstimateUs() + this.marginUs + this.overlapUs;
  }

  get requestInFlight(): boolean {
    return this.inFlight;
  }

  /** Whether a request should be issued now. */
  shouldRequest(nowUs: number): boolean {
    if (this.inFlight || nowUs < this.notBeforeUs) return false;
    const s = this.store.newest();
    return s === null || this.store.endUs(s) - nowUs <= this.leadUs();
  }

  /**
   * `fromSchedule`: the request's state is the scheduled target (requestState() returned true);
   * otherwise its chunk is re-aligned to start on arrival. `originUs`: the request's origin.
   */
  requestIssued(nowUs: number, originUs = Number.NaN, fromSchedule = true): void {
    this.inFlight = true;
    this.requestedAtUs = nowUs;
    this.requestedOriginUs = originUs;
    // Only where the schedule's state is in use: with 'measured' every chunk keeps its observation's alignment.
    this.startsOnArrival = this.fromSchedule && !fromSchedule;
  }

  /**
   * The state and origin of a request issued at nowUs from the observation `measured` captured at
   * obsTimeUs, into out[A]. While the robot follows the schedule (a chunk covers obsTimeUs and
   * every joint is within followToleranceRad of it there), the scheduled target at the expected
   * arrival, nowUs + latencyEstimateUs(), and that time as origin; else the measurement and
   * obsTimeUs. `fromSchedule` says which.
   */
  requestState(nowUs: number, obsTimeUs: number, measured: ArrayLike<number>, out: Float64Array): { originUs: number; fromSchedule: boolean } {
    if (this.fromSchedule && this.sample(obsTimeUs, out)) {
      let following = true;
      for (let j = 0; j < this.jointCount; j++) if (!(Math.abs((out[j] as number) - (measured[j] as number)) <= this.followTolRad)) following = false;
      const arrivalUs = Math.max(nowUs, obsTimeUs) + this.latencyEstimateUs();
      if (following && this.sample(arrivalUs, out)) return { originUs: arrivalUs, fromSchedule: true };
    }
    for (let j = 0; j < this.jointCount; j++) out[j] = measured[j] as number;
    return { originUs: obsTimeUs, fromSchedule: false };
  }

  /** The request ended without a chunk (no plan, decoder failure, cancelled): retry after retryUs. */
  requestFailed(nowUs: number): void {
    this.inFlight = false;
    this.notBeforeUs = nowUs + this.retryUs;
  }

  /**
   * Fills `prefix` with the present trajectory at the row times of a chunk that will start at
   * `originUs` (the capture time of the observation the request uses), for the inpaint policy.
   */
  planPrefix(originUs: number, nowUs: number): PrefixPlan {
    const A = this.jointCount;
    const arrivalUs = nowUs + this.latencyEstimateUs() + this.marginUs;
    let rows = 0, committed = 0;
    for (let h = 0; h < this.horizon; h++) {
      const t = originUs + (h + 1) * this.stepUs;
      if (!this.sample(t, this.tmp)) break;
      for (let j = 0; j < A; j++) this.prefix[h * A + j] = this.tmp[j] as number;
      rows++;
      if (t <= arrivalUs) committed++;
    }
    return { rows, committed };
  }

  /**
   * A chunk ([rows, A], rad, 1 <= rows <= horizon: a decoded chunk has `horizon` rows, an action
   * chunk from a policy server as many as it covers) computed from the observation captured at
   * originUs. Returns false (and counts it stale) when it is older than the newest chunk (not when
   * as old) or wholly in the past.
   */
  accept(actions: ArrayLike<number>, originUs: number, nowUs: number): boolean {
    if (this.inFlight) {
      const lat = nowUs - this.requestedAtUs;
      if (Number.isFinite(lat) && lat >= 0) this.latencies[this.latencyCount++ % this.latencies.length] = lat;
      this.inFlight = false;
      // Made from a robot that was not moving along a schedule: it is still where it was measured,
      // so the chunk's first row is due now (as stop-and-go execution starts a chunk). Aligning
      // its origin to now instead starts on the backward extrapolation of rows 0-2, whose kink at
      // a motion's onset cost 1-2 acceleration clamps per reach in `spinal eval --suite faults`.
      if (this.startsOnArrival && originUs === this.requestedOriginUs) originUs = Math.max(originUs, nowUs - this.stepUs);
    }
    const rows = actions.length / this.jointCount;
    if (!(Number.isInteger(rows) && rows >= 1 && rows <= this.horizon)) {
      throw new RangeError(`chunk has ${actions.length} values, expected 1..${this.horizon} rows of ${this.jointCount}`);
    }
    const newest = this.store.newest();
    // Older than the newest is stale; as old (computed from the same observation: the estimator did
    // not move on, e.g. the main thread stalled) it is newer information (a later plan) and is taken.
    // Refusing it let the newest chunk run out with a good one in hand: ACTIVE↔HOLD
    // 'chunk-exhausted' flapping while the observation stood still.
    if ((newest !== null && originUs < newest.originUs) || nowUs > originUs + rows * this.stepUs) {
      this.staleChunks++;
      return false;
    }
    this.store.expire(nowUs);
    const s = this.store.put(actions, originUs, nowUs);
    this.droppedRows += this.store.rowsPast(s, nowUs);
    return true;
  }

  /**
   * The target for time tUs into out[A] (rad). Returns false when no chunk covers tUs (every chunk
   * has run out, or none has arrived): the caller holds.
   */
  sample(tUs: number, out: Float64Array): boolean {
    const st = this.store;
    const cur = st.newest();
    if (cur === null) return false;
    // No expiry here: planPrefix() samples future times. accept() expires chunks.
    if (!st.covers(cur, tUs)) return false;
    switch (this.policy) {
      case SwitchPolicy.CROSSFADE: return this.sampleCrossfade(cur, tUs, out);
      case SwitchPolicy.ENSEMBLE: return this.sampleEnsemble(tUs, out);
      default:
        st.sample(cur, tUs, out);
        return true;
    }
  }

  /** Forgets every chunk and any request in flight (after a stop). */
  reset(): void {
    this.store.clear();
    this.inFlight = false;
    this.startsOnArrival = false;
    this.notBeforeUs = Number.NEGATIVE_INFINITY;
  }

  private sampleCrossfade(cur: ChunkSlot, tUs: number, out: Float64Array): boolean {
    const st = this.store;
    st.sample(cur, tUs, out);
    const prev = st.previous(cur);
    const x = (tUs - cur.acceptedUs) / this.crossfadeUs;
    if (prev === null || x >= 1 || !st.covers(prev, tUs)) return true;
    const w = x <= 0 ? 0 : x * x * (3 - 2 * x);
    st.sample(prev, tUs, this.tmp);
    for (let j = 0; j < this.jointCount; j++) out[j] = (1 - w) * (this.tmp[j] as number) + w * (out[j] as number);
    return true;
  }

  /** ACT: weights exp(−m·i) over the chunks covering tUs, i = 0 for the oldest. */
  private sampleEnsemble(tUs: number, out: Float64Array): boolean {
    const st = this.store;
    const acc = this.acc;
    acc.fill(0);
    let wSum = 0;
    // i counts covering chunks older than s; orders are unique and increasing with arrival.
    for (const s of st.slots) {
      if (!st.covers(s, tUs)) continue;
      let i = 0;
      for (const o of st.slots) if (st.covers(o, tUs) && o.order < s.order) i++;
      const w = Math.exp(-this.decay * i);
      st.sample(s, tUs, this.tmp);
      for (let j = 0; j < this.jointCount; j++) acc[j] = (acc[j] as number) + w * (this.tmp[j] as number);
      wSum += w;
    }
    for (let j = 0; j < this.jointCount; j++) out[j] = (acc[j] as number) / wSum;
    return true;
  }
}
