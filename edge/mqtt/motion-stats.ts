/**
 * Tracking error and jitter for the state summary, so an operator sees a shaking robot: a window of
 * the last `window` telemetry samples (10-50 Hz; never on the control tick) of what was sent and
 * what was measured, per joint:
 *   tracking = max over joints of the RMS of (sent position - measured position)        rad
 *   jitter   = max over joints of the standard deviation of the sent velocity          rad/s
 * At rest the jitter is the commanded velocity RMS; in a steady motion only its fluctuation
 * counts. Null until the window holds two samples. Allocation-free after construction.
 */
export class MotionStats {
  private readonly sent: Float64Array;
  private readonly measured: Float64Array;
  private readonly velocity: Float64Array;
  private count = 0;
  private next = 0;

  constructor(private readonly joints: number, private readonly window = 20) {
    if (!(window >= 2) || !(joints >= 1)) throw new RangeError(`MotionStats: window ${window} must be >= 2 and joints ${joints} >= 1`);
    this.sent = new Float64Array(window * joints);
    this.measured = new Float64Array(window * joints);
    this.velocity = new Float64Array(window * joints);
  }

  /** One sample: sent position and velocity, measured position (rad, rad/s). Non-finite samples are skipped. */
  add(sentPosition: ArrayLike<number>, sentVelocity: ArrayLike<number>, measuredPosition: ArrayLike<number>): void {
    const J = this.joints;
    for (let j = 0; j < J; j++) {
      if (!Number.isFinite(sentPosition[j]) || !Number.isFinite(sentVelocity[j]) || !Number.isFinite(measuredPosition[j])) return;
    }
    const o = this.next * J;
    for (let j = 0; j < J; j++) {
      this.sent[o + j] = sentPosition[j] as number;
      this.velocity[o + j] = sentVelocity[j] as number;
      this.measured[o + j] = measuredPosition[j] as number;
    }
    this.next = (this.next + 1) % this.window;
    this.count = Math.min(this.window, this.count + 1);
  }

  /** Forgets the window (the robot stopped sending: nothing to judge). */
  clear(): void {
    this.count = 0;
    this.next = 0;
  }

  trackingRad(): number | null {
    if (this.count < 2) return null;
    let worst = 0;
    for (let j = 0; j < this.joints; j++) {
      let s = 0;
      for (let k = 0; k < this.count; k++) {
        const e = (this.sent[k * this.joints + j] as number) - (this.measured[k * this.joints + j] as number);
        s += e * e;
      }
      worst = Math.max(worst, Math.sqrt(s / this.count));
    }
    return worst;
  }

  jitterRadS(): number | null {
    if (this.count < 2) return null;
    let worst = 0;
    for (let j = 0; j < this.joints; j++) {
      let s = 0, s2 = 0;
      for (let k = 0; k < this.count; k++) {
        const v = this.velocity[k * this.joints + j] as number;
        s += v; s2 += v * v;
      }
      const mean = s / this.count;
      worst = Math.max(worst, Math.sqrt(Math.max(0, s2 / this.count - mean * mean)));
    }
    return worst;
  }
}
