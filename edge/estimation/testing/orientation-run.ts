/**
 * Test and benchmark helper: runs the estimator on a simulated plant and measures the host
 * filter's orientation error against the plant's truth (full attitude, and tilt only).
 */
import type { RobotProfile } from '../../../hardware/index.js';
import { quatAngleBetween, tiltDisagreement } from '../quat-math.js';
import { StateEstimator } from '../state-estimator.js';
import type { StateEstimatorOptions } from '../estimator-options.js';
import { PlantFeed } from './plant-feed.js';

export interface ErrorStats {
  /** rad */
  rms: number;
  max: number;
  tiltRms: number;
  tiltMax: number;
  samples: number;
}

export class ErrorAccumulator {
  private sum = 0;
  private sumTilt = 0;
  private n = 0;
  private max = 0;
  private tiltMax = 0;

  add(estimate: ArrayLike<number>, truth: ArrayLike<number>): void {
    const e = quatAngleBetween(estimate, truth);
    const et = tiltDisagreement(estimate, truth);
    this.sum += e * e;
    this.sumTilt += et * et;
    this.n++;
    if (e > this.max) this.max = e;
    if (et > this.tiltMax) this.tiltMax = et;
  }

  stats(): ErrorStats {
    return { rms: Math.sqrt(this.sum / this.n), max: this.max, tiltRms: Math.sqrt(this.sumTilt / this.n), tiltMax: this.tiltMax, samples: this.n };
  }
}

export interface Phase {
  /** s of simulated time. */
  seconds: number;
  /** Called once at the start of the phase. */
  start?: (feed: PlantFeed) => void;
  /** Measure the error during this phase. */
  measure: boolean;
}

/** Runs phases at 1 kHz; returns the error stats of each measured phase, in order. */
export function runOrientation(
  profile: RobotProfile, phases: Phase[], opts: StateEstimatorOptions = {}, seed = 7, onCreate?: (est: StateEstimator) => void,
): { est: StateEstimator; feed: PlantFeed; errors: ErrorStats[] } {
  const feed = new PlantFeed(profile, { seed });
  const est = new StateEstimator(profile, opts);
  onCreate?.(est);
  const errors: ErrorStats[] = [];
  for (const ph of phases) {
    ph.start?.(feed);
    const acc = new ErrorAccumulator();
    const steps = Math.round(ph.seconds * 1000);
    for (let k = 0; k < steps; k++) {
      est.update(feed.step());
      if (ph.measure) acc.add(est.filterOrientation, feed.plant.truth.baseQuat);
    }
    if (ph.measure) errors.push(acc.stats());
  }
  return { est, feed, errors };
}
