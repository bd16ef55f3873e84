/**
 * systemd's watchdog: WATCHDOG=1 every half of WATCHDOG_USEC, and only while the daemon's main
 * loop says it is healthy, so a wedged loop stops the pings and systemd restarts the service
 * (Restart=on-failure) while the MCU's own watchdog has already stopped the motors.
 * Invariant: one timer pending while running; none after stop().
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Notifier } from './sd-notifier.js';

/** The ping period systemd asks for, in µs (half of WATCHDOG_USEC), or null when not requested. */
export function watchdogPeriodUs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null; // meant for another process
  return usec / 2;
}

/** A main loop's liveness: the loop calls beat() each iteration; healthy while the last beat is recent. */
export class LivenessProbe {
  private lastUs: number | null = null;
  constructor(private readonly clock: Clock, private readonly maxAgeMs: number) {}
  beat(): void {
    this.lastUs = this.clock.nowUs();
  }
  healthy(): boolean {
    return this.lastUs !== null && this.clock.nowUs() - this.lastUs <= this.maxAgeMs * 1000;
  }
}

export interface WatchdogOptions {
  notifier: Notifier;
  periodUs: number;
  healthy(): boolean;
  clock: Clock;
  logger?: { warn(obj: object, msg?: string): void };
}

export class SystemdWatchdog {
  private timer: TimerHandle | null = null;
  private skipping = false;
  pings = 0;
  skipped = 0;

  constructor(private readonly opts: WatchdogOptions) {
    if (!(opts.periodUs > 0)) throw new RangeError(`watchdog periodUs=${opts.periodUs} must be > 0`);
  }

  start(): void {
    if (!this.timer) this.timer = this.opts.clock.setTimeout(this.tick, this.opts.periodUs / 1000);
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly tick = (): void => {
    this.timer = this.opts.clock.setTimeout(this.tick, this.opts.periodUs / 1000);
    if (!this.opts.healthy()) {
      this.skipped++;
      if (!this.skipping) this.opts.logger?.warn({ periodMs: this.opts.periodUs / 1000 }, 'main loop unhealthy: withholding WATCHDOG=1');
      this.skipping = true;
      return;
    }
    this.skipping = false;
    this.pings++;
    this.opts.notifier.notify({ WATCHDOG: 1 }).catch((err: Error) => this.opts.logger?.warn({ err: err.message }, 'WATCHDOG=1 not sent'));
  };
}
