/**
 * Publishes the state summary at a fixed rate (10-50 Hz) on absolute deadlines, so a slow tick
 * does not drift the rate; ticks missed by more than one period are skipped, not bunched.
 * Invariant: one timer pending while running, none after stop().
 */
import type { Clock, TimerHandle } from '../clock.js';

export interface TelemetryPublisherOptions {
  clock: Clock;
  rateHz: number;
  /** Builds and publishes one summary; errors are the caller's to report. */
  tick(): void;
}

export class TelemetryPublisher {
  private timer: TimerHandle | null = null;
  private nextUs = 0;
  private readonly periodUs: number;

  constructor(private readonly opts: TelemetryPublisherOptions) {
    if (!(opts.rateHz >= 1 && opts.rateHz <= 100)) throw new RangeError(`telemetry rateHz=${opts.rateHz} must be within 1..100`);
    this.periodUs = 1e6 / opts.rateHz;
  }

  start(): void {
    if (this.timer) return;
    this.nextUs = this.opts.clock.nowUs() + this.periodUs;
    this.schedule();
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const delayMs = Math.max(0, (this.nextUs - this.opts.clock.nowUs()) / 1000);
    this.timer = this.opts.clock.setTimeout(this.fire, delayMs);
  }

  private readonly fire = (): void => {
    this.opts.tick();
    const now = this.opts.clock.nowUs();
    this.nextUs += this.periodUs;
    if (this.nextUs < now) this.nextUs = now + this.periodUs; // fell behind: skip, do not burst
    this.schedule();
  };
}
