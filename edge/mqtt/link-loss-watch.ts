/**
 * The remote e-stop channel's own watchdog, as wireless e-stop receivers have one: when the broker
 * connection has been down for `timeoutMs`, `onLost` fires once for that outage. A connection that
 * comes back before then cancels it; the next loss starts a fresh count.
 *
 * The count starts at start() as well as at every loss: a robot whose first connection does not
 * come within `timeoutMs` has no remote e-stop either.
 *
 * Invariants: at most one timer is pending; it is pending iff started, not stopped, not connected
 * and not yet fired for this outage. Time is read only through the injected Clock.
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface LinkLossInfo {
  timeoutMs: number;
  /** How long the connection had been down when the watch fired (≥ timeoutMs; more if timers ran late). */
  downForMs: number;
}

export interface LinkLossWatchOptions {
  clock: Clock;
  timeoutMs: number;
  onLost(info: LinkLossInfo): void;
}

export class LinkLossWatch {
  private timer: TimerHandle | null = null;
  private downSinceUs: number | null = null;
  private running = false;
  private up = false;

  constructor(private readonly opts: LinkLossWatchOptions) {
    if (!(opts.timeoutMs > 0) || !Number.isFinite(opts.timeoutMs)) throw new RangeError(`MQTT link-loss timeoutMs=${opts.timeoutMs} must be a finite number > 0`);
  }

  /** Whether the watch fired for the present outage (false while connected). */
  get tripped(): boolean {
    return this.running && !this.up && this.downSinceUs !== null && this.timer === null;
  }

  /** Starts counting: not connected yet counts as down. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this.up) this.down();
  }

  /** Stops the watch for good (a clean shutdown is not a loss). */
  stop(): void {
    this.running = false;
    this.clear();
  }

  /** The broker connection is up (CONNACK received). */
  connected(): void {
    this.up = true;
    this.downSinceUs = null;
    this.clear();
  }

  /** The broker connection is gone (socket closed, keepalive missed, refused). Repeats are no-ops. */
  disconnected(): void {
    if (!this.up && this.downSinceUs !== null) return;
    this.up = false;
    if (this.running) this.down();
  }

  private down(): void {
    this.downSinceUs = this.opts.clock.nowUs();
    this.clear();
    this.timer = this.opts.clock.setTimeout(this.fire, this.opts.timeoutMs);
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = this.opts.clock.nowUs();
    const since = this.downSinceUs ?? now;
    const downForMs = (now - since) / 1000;
    // Node's timers count whole milliseconds of loop time, so one may fire up to a millisecond
    // before the microsecond clock says the timeout has passed: wait out the rest, so the stop is
    // never earlier than the configured time.
    if (downForMs < this.opts.timeoutMs) {
      this.timer = this.opts.clock.setTimeout(this.fire, Math.max(1, Math.ceil(this.opts.timeoutMs - downForMs)));
      return;
    }
    this.opts.onLost({ timeoutMs: this.opts.timeoutMs, downForMs });
  };

  private clear(): void {
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
