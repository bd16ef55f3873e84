/**
 * Seeded line faults on the MCU → host byte stream: bit flips at a bit error rate, dropped bytes,
 * and bursts of garbage bytes (a noisy cable, a brown-out, a ground loop). Same seed, same config
 * and same input give the same output.
 *
 * Each fault is a Bernoulli process per bit (flips) or per byte (drops, bursts); instead of a
 * random draw per byte, the distance to the next event is drawn from the geometric distribution,
 * so a clean line (all rates 0) costs one comparison per chunk and a noisy one a draw per event.
 */
import { Rng } from '../../hardware/index.js';

export interface LineFaultConfig {
  /** Probability that any one bit is inverted, 0..1. */
  bitErrorRate?: number;
  /** Probability that any one byte is lost, 0..1. */
  dropRate?: number;
  /** Probability, per byte sent, that a burst of random bytes is inserted before it, 0..1. */
  garbageRate?: number;
  /** Longest garbage burst, bytes (uniform in 1..max). Default 32. */
  garbageBurstMax?: number;
}

export interface LineFaultCounters {
  bitsFlipped: number;
  bytesDropped: number;
  garbageBursts: number;
  garbageBytes: number;
}

const NEVER = Number.POSITIVE_INFINITY;

export class LineFaults {
  readonly counters: LineFaultCounters = { bitsFlipped: 0, bytesDropped: 0, garbageBursts: 0, garbageBytes: 0 };
  private readonly rng: Rng;
  private ber = 0;
  private drop = 0;
  private garbage = 0;
  private burstMax = 32;
  /** Bits until the next flip, bytes until the next drop / burst (Infinity when off). */
  private toFlip = NEVER;
  private toDrop = NEVER;
  private toBurst = NEVER;
  private out = new Uint8Array(0);

  constructor(seed = 1, config: LineFaultConfig = {}) {
    this.rng = new Rng(seed);
    this.configure(config);
  }

  get active(): boolean {
    return this.ber > 0 || this.drop > 0 || this.garbage > 0;
  }

  /** Replaces the configuration (fields left out are turned off); takes effect on the next byte. */
  configure(config: LineFaultConfig): void {
    this.ber = checkRate('bitErrorRate', config.bitErrorRate ?? 0);
    this.drop = checkRate('dropRate', config.dropRate ?? 0);
    this.garbage = checkRate('garbageRate', config.garbageRate ?? 0);
    const max = config.garbageBurstMax ?? 32;
    if (!Number.isInteger(max) || max < 1 || max > 4096) throw new RangeError(`LineFaults: garbageBurstMax=${max} must be an integer in 1..4096`);
    this.burstMax = max;
    this.toFlip = this.gap(this.ber);
    this.toDrop = this.gap(this.drop);
    this.toBurst = this.gap(this.garbage);
  }

  /**
   * Returns the faulted version of bytes[0, length): `input` itself when the line is clean,
   * otherwise a view of an internal buffer valid until the next call.
   */
  apply(bytes: Uint8Array, length: number): Uint8Array {
    if (!this.active) return bytes.subarray(0, length);
    const cap = length * 2 + this.burstMax * 4 + 64;
    if (this.out.length < cap) this.out = new Uint8Array(Math.max(cap, 4096));
    let o = 0;
    for (let i = 0; i < length; i++) {
      if (--this.toBurst < 0) {
        this.toBurst = this.gap(this.garbage);
        const n = 1 + Math.floor(this.rng.uniform() * this.burstMax);
        if (o + n + (length - i) > this.out.length) this.grow(o + n + (length - i) * 2);
        for (let k = 0; k < n; k++) this.out[o++] = Math.floor(this.rng.uniform() * 256);
        this.counters.garbageBursts++;
        this.counters.garbageBytes += n;
      }
      if (--this.toDrop < 0) {
        this.toDrop = this.gap(this.drop);
        this.counters.bytesDropped++;
        continue;
      }
      let b = bytes[i] as number;
      this.toFlip -= 8;
      while (this.toFlip < 0) {
        b ^= 1 << (8 + this.toFlip);
        this.counters.bitsFlipped++;
        this.toFlip += 1 + this.gap(this.ber);
      }
      this.out[o++] = b;
    }
    return this.out.subarray(0, o);
  }

  private grow(n: number): void {
    const bigger = new Uint8Array(n);
    bigger.set(this.out);
    this.out = bigger;
  }

  /** Trials before the next success of a Bernoulli(p) process: geometric, Infinity for p = 0. */
  private gap(p: number): number {
    if (p <= 0) return NEVER;
    if (p >= 1) return 0;
    const u = 1 - this.rng.uniform(); // (0, 1]
    return Math.floor(Math.log(u) / Math.log1p(-p));
  }
}

function checkRate(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`LineFaults: ${name}=${p} must be in 0..1`);
  return p;
}
