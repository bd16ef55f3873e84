/**
 * The reference brain in simulated time: at the observation rate it takes the edge's latest
 * observation, runs the cloud's ReferenceBackend on it (the shipping brain logic, on the eval's
 * clock) and delivers the plan after the injected round trip plus jitter, or loses it with the
 * configured probability. Plans are valid for `validityMs` after the observation's capture, as
 * the brain server grants them.
 */
import type { ManualClock, TimerHandle } from '../../edge/clock.js';
import { ReferenceBackend } from '../../cloud/backends/reference/reference-backend.js';
import type { Clock as CloudClock } from '../../cloud/clock.js';
import type { Hello } from '../../proto/brain/index.js';
import { Rng } from '../../hardware/rng.js';

export interface SimPlan {
  latent: Float32Array;
  captureUs: number;
  expiresAtUs: number;
  arrivedUs: number;
}

export interface SimBrainOptions {
  clock: ManualClock;
  hello: Hello;
  instruction: string;
  /** Reads the latest observation (joint positions) into `out`; false when there is none yet. */
  observe: (out: Float64Array) => boolean;
  onPlan: (p: SimPlan) => void;
  observationRateHz: number;
  latencyMs: number;
  jitterMs: number;
  planLoss: number;
  validityMs: number;
  seed: number;
}

export class SimBrain {
  plansLost = 0;
  plansSent = 0;
  private readonly backend: ReferenceBackend;
  private readonly rng: Rng;
  private readonly obs: Float64Array;
  private timer: TimerHandle | null = null;
  private seq = 0;

  constructor(private readonly o: SimBrainOptions) {
    const c = o.clock;
    const cloudClock: CloudClock = { nowUs: () => c.nowUs(), monoMs: () => c.nowUs() / 1000 };
    this.backend = new ReferenceBackend({ clock: cloudClock });
    this.rng = new Rng(o.seed ^ 0xb7a1);
    this.obs = new Float64Array(o.hello.joints.length);
  }

  start(): void {
    const period = 1000 / this.o.observationRateHz;
    const tick = (): void => {
      this.timer = this.o.clock.setTimeout(tick, period);
      void this.observeOnce();
    };
    this.timer = this.o.clock.setTimeout(tick, 0);
  }

  stop(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private async observeOnce(): Promise<void> {
    if (!this.o.observe(this.obs)) return;
    const captureUs = this.o.clock.nowUs();
    const seq = ++this.seq;
    const state = Array.from(this.obs);
    const [r] = await this.backend.infer([{
      session: { sessionId: 'eval', hello: this.o.hello },
      observation: { seq, captureTimeUs: captureUs, sendTimeUs: captureUs, state, frames: [], taskId: 'eval-task' },
      task: { taskId: 'eval-task', instruction: this.o.instruction },
    }], { signal: new AbortController().signal, timeoutMs: 1000 });
    if (r?.ok !== true) return;
    if (this.rng.uniform() < this.o.planLoss) { this.plansLost++; return; }
    const delay = this.o.latencyMs + this.rng.uniform() * this.o.jitterMs;
    const latent = Float32Array.from(r.latent);
    this.plansSent++;
    this.o.clock.setTimeout(() => {
      this.o.onPlan({ latent, captureUs, expiresAtUs: captureUs + this.o.validityMs * 1000, arrivedUs: this.o.clock.nowUs() });
    }, delay);
  }
}
