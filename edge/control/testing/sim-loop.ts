/**
 * The control loop's scheduling path on one thread and a ManualClock: every `periodUs` a tick
 * reads the (simulated) observation, runs schedulerTick, and records the target; requests go
 * through a ChunkFeeder to a (fake) decoder. The observation is the previous target, captured
 * `obsLagUs` before the tick (a plant that tracks perfectly). For tests and the smoothness bench.
 */
import type { ManualClock, TimerHandle } from '../../clock.js';
import type { ChunkFeeder } from '../chunk-feeder.js';
import { schedulerTick } from '../chunk-request.js';
import type { ChunkScheduler } from '../chunk-scheduler.js';

export interface SimTick {
  tUs: number;
  ok: boolean;
  target: number[];
}

export class SimLoop {
  readonly ticks: SimTick[] = [];
  readonly requestTimesUs: number[] = [];
  readonly acceptTimesUs: number[] = [];
  failures = 0;
  private readonly out: Float64Array;
  private readonly obs: Float64Array;
  private timer: TimerHandle | null = null;

  constructor(private readonly clock: ManualClock, private readonly sched: ChunkScheduler, private readonly feeder: ChunkFeeder, private readonly periodUs: number, initial: ArrayLike<number>, private readonly obsLagUs = 1000) {
    this.out = new Float64Array(sched.jointCount);
    this.obs = Float64Array.from(initial);
  }

  start(): void {
    this.timer = this.clock.setTimeout(this.tick, this.periodUs / 1000);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly tick = (): void => {
    this.timer = this.clock.setTimeout(this.tick, this.periodUs / 1000);
    const now = this.clock.nowUs();
    const ok = schedulerTick(this.sched, now, this.out, this.obs, now - this.obsLagUs, (req) => {
      this.requestTimesUs.push(now);
      void this.feeder.run(req).then((r) => {
        const t = this.clock.nowUs();
        if (r.status === 'chunk') {
          this.sched.accept(r.actions, r.originUs, t);
          this.acceptTimesUs.push(t);
        } else {
          this.failures++;
          this.sched.requestFailed(t);
        }
      });
    });
    if (ok) this.obs.set(this.out);
    this.ticks.push({ tUs: now, ok, target: Array.from(this.out) });
  };
}
