/**
 * MCU ↔ host clock estimation from TIME_SYNC exchanges (SPEC.md §3).
 *
 * Each exchange gives host send/receive times t0, t3 (host clock) and MCU receive/send times t1, t2
 * (MCU clock, unwrapped). With symmetric path delays,
 *   offset = ((t1 - t0) + (t2 - t3)) / 2      (MCU minus host, at host time (t0 + t3) / 2)
 *   rtt    = (t3 - t0) - (t2 - t1)
 * Asymmetric queueing (USB polling, a busy event loop) biases the offset by up to rtt/2, and it
 * shows up as a longer rtt; so of the last `window` samples only the lowest-rtt quarter is used,
 * and a least-squares line offset(host) = a + b·(host - ref) is fitted through them: a is the
 * offset at ref, b the drift (1e-6 b = ppm). Mapping: mcu = host + a + b·(host - ref).
 */
import { McuClockUnwrapper } from './mcu-clock-unwrapper.js';

export interface TimeSyncOptions {
  /** Samples kept; default 128 (12.8 s at the link's 10 Hz). */
  window?: number;
  /** Fraction of the lowest-rtt samples fitted; default 0.25. */
  keepFraction?: number;
  /** Samples needed before the estimate counts as converged; default 8. */
  minSamples?: number;
  /** A drift is fitted only once the used samples span this many µs of host time; default 2 s: over a
   * shorter span, round-trip jitter of tens of µs swamps a drift of tens of ppm. */
  minDriftSpanUs?: number;
}

export interface TimeSyncStats {
  samples: number;
  converged: boolean;
  /** MCU minus host, µs, at the newest sample; NaN before the first sample. */
  offsetUs: number;
  driftPpm: number;
  lastRttUs: number;
  minRttUs: number;
  /** Standard deviation of the fitted samples around the line, µs. */
  residualStdUs: number;
}

interface Sample {
  hostUs: number;
  offsetUs: number;
  rttUs: number;
}

export class TimeSync {
  private readonly unwrapper = new McuClockUnwrapper();
  private readonly window: number;
  private readonly keepFraction: number;
  private readonly minSamples: number;
  private readonly minDriftSpanUs: number;
  /** Ring of the newest `window` samples; `count` of them valid, the next written at `head`. */
  private readonly ring: Sample[];
  private head = 0;
  private count = 0;
  // Fitted line: offset(host) = a + b * (host - ref). Invariant: finite once count > 0.
  private a = Number.NaN;
  private b = 0;
  private ref = 0;
  private lastRtt = Number.NaN;
  private residualStd = Number.NaN;
  private latestHostUs = 0;

  constructor(opts: TimeSyncOptions = {}) {
    this.window = opts.window ?? 128;
    this.keepFraction = opts.keepFraction ?? 0.25;
    this.minSamples = opts.minSamples ?? 8;
    this.minDriftSpanUs = opts.minDriftSpanUs ?? 2_000_000;
    this.ring = Array.from({ length: this.window }, () => ({ hostUs: 0, offsetUs: 0, rttUs: 0 }));
  }

  /** Forgets all samples and the unwrap history (the MCU restarted or the port was reopened). */
  reset(): void {
    this.unwrapper.reset();
    this.head = 0;
    this.count = 0;
    this.a = Number.NaN;
    this.b = 0;
    this.ref = 0;
    this.lastRtt = Number.NaN;
    this.residualStd = Number.NaN;
  }

  get converged(): boolean {
    return this.count >= this.minSamples;
  }

  get sampleCount(): number {
    return this.count;
  }

  /** Unwraps a raw u32 MCU time (see McuClockUnwrapper). */
  unwrap(mcuUs32: number): number {
    return this.unwrapper.unwrap(mcuUs32);
  }

  /**
   * Adds one exchange: t0/t3 host µs, t1/t2 raw u32 MCU µs. Returns false (sample ignored) when the
   * times are impossible: a negative round trip, or the MCU answering before it received.
   */
  addSample(t0: number, t1Raw: number, t2Raw: number, t3: number): boolean {
    const t1 = this.unwrap(t1Raw);
    const t2 = this.unwrap(t2Raw);
    const rtt = t3 - t0 - (t2 - t1);
    if (!(t3 >= t0) || t2 < t1 || rtt < 0) return false;
    const s = this.ring[this.head] as Sample;
    s.hostUs = (t0 + t3) / 2;
    s.offsetUs = (t1 - t0 + (t2 - t3)) / 2;
    s.rttUs = rtt;
    this.head = (this.head + 1) % this.window;
    if (this.count < this.window) this.count++;
    this.lastRtt = rtt;
    this.latestHostUs = s.hostUs;
    this.fit();
    return true;
  }

  /** Host µs of an unwrapped MCU time; NaN before the first sample. Allocation-free. */
  mcuUnwrappedToHostUs(mcuUs: number): number {
    // mcu = host + a + b (host - ref)  =>  host = (mcu - a + b ref) / (1 + b)
    return (mcuUs - this.a + this.b * this.ref) / (1 + this.b);
  }

  /** Host µs of a raw u32 MCU time (unwrapped first); NaN before the first sample. */
  mcuToHostUs(mcuUs32: number): number {
    return this.mcuUnwrappedToHostUs(this.unwrap(mcuUs32));
  }

  /** Unwrapped MCU µs at a host time (take `>>> 0` for the wire); NaN before the first sample. */
  hostToMcuUs(hostUs: number): number {
    return hostUs + this.a + this.b * (hostUs - this.ref);
  }

  stats(): TimeSyncStats {
    let minRtt = Number.NaN;
    for (let i = 0; i < this.count; i++) {
      const r = (this.ring[i] as Sample).rttUs;
      if (!(r >= minRtt)) minRtt = r;
    }
    return {
      samples: this.count,
      converged: this.converged,
      offsetUs: this.count > 0 ? this.a + this.b * (this.latestHostUs - this.ref) : Number.NaN,
      driftPpm: this.b * 1e6,
      lastRttUs: this.lastRtt,
      minRttUs: minRtt,
      residualStdUs: this.residualStd,
    };
  }

  /**
   * Refits the line through the lowest-rtt samples. Runs per sample (a few Hz), not per STATE.
   * Samples tied with the quantile's rtt are all kept, so equal-rtt samples spread over the whole
   * window (not only the oldest few) carry the drift.
   */
  private fit(): void {
    const all = this.ring.slice(0, this.count);
    const rtts = all.map((s) => s.rttUs).sort((p, q) => p - q);
    const want = Math.min(all.length, Math.max(3, Math.ceil(all.length * this.keepFraction)));
    const limit = rtts[want - 1] as number;
    const used = all.filter((s) => s.rttUs <= limit);
    const k = used.length;
    let mx = 0, my = 0, minX = Infinity, maxX = -Infinity;
    for (let i = 0; i < k; i++) {
      const s = used[i] as Sample;
      mx += s.hostUs; my += s.offsetUs;
      if (s.hostUs < minX) minX = s.hostUs;
      if (s.hostUs > maxX) maxX = s.hostUs;
    }
    mx /= k; my /= k;
    let sxx = 0, sxy = 0;
    for (let i = 0; i < k; i++) {
      const s = used[i] as Sample;
      const dx = s.hostUs - mx;
      sxx += dx * dx; sxy += dx * (s.offsetUs - my);
    }
    // Too short a span makes the slope noise; keep the previous drift and refit the offset only.
    const b = k >= 3 && maxX - minX >= this.minDriftSpanUs && sxx > 0 ? sxy / sxx : this.b;
    this.b = b;
    this.ref = mx;
    this.a = my;
    let ss = 0;
    for (let i = 0; i < k; i++) {
      const s = used[i] as Sample;
      const r = s.offsetUs - (my + b * (s.hostUs - mx));
      ss += r * r;
    }
    this.residualStd = Math.sqrt(ss / k);
  }
}
