/**
 * Operator dead-man: while armed, a well-formed heartbeat must arrive at least every `timeoutMs`,
 * otherwise `onExpired` fires once (and again only after a heartbeat re-arms it).
 * Invariant: exactly one timer is pending while armed and not expired; none otherwise.
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface DeadmanWatchOptions {
  clock: Clock;
  timeoutMs: number;
  onExpired(info: { timeoutMs: number; lastHeartbeatAgeMs: number | null }): void;
}

export class DeadmanWatch {
  private timer: TimerHandle | null = null;
  private lastBeatUs: number | null = null;
  private armed = false;
  private expiredFlag = false;

  constructor(private readonly opts: DeadmanWatchOptions) {
    if (!(opts.timeoutMs > 0)) throw new RangeError(`dead-man timeoutMs=${opts.timeoutMs} must be > 0`);
  }

  get expired(): boolean {
    return this.expiredFlag;
  }

  /** Arms the watch: the first heartbeat is due within timeoutMs from now (fail safe at boot). */
  start(): void {
    if (this.armed) return;
    this.armed = true;
    this.rearm();
  }

  stop(): void {
    this.armed = false;
    this.clear();
  }

  /** A well-formed heartbeat arrived. */
  beat(): void {
    this.lastBeatUs = this.opts.clock.nowUs();
    this.expiredFlag = false;
    if (this.armed) this.rearm();
  }

  private rearm(): void {
    this.clear();
    this.timer = this.opts.clock.setTimeout(this.fire, this.opts.timeoutMs);
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.expiredFlag = true;
    const age = this.lastBeatUs === null ? null : (this.opts.clock.nowUs() - this.lastBeatUs) / 1000;
    this.opts.onExpired({ timeoutMs: this.opts.timeoutMs, lastHeartbeatAgeMs: age });
  };

  private clear(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
