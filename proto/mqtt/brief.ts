/**
 * A robot's brief: the few fields a fleet overview shows, published beside the detailed state
 * summary (`<robot>/brief`, QoS 0). A dashboard watching hundreds of robots subscribes to the
 * briefs and only to the state of the robot it shows in detail, so what it receives grows with
 * the fleet at about 1 message per robot and second instead of the telemetry rate.
 *
 * The brief is a projection of the state summary: its fields use the summary's own schemas, so
 * the two cannot drift apart. It goes out at a low rate (BRIEF_PERIOD_MS) and, besides, at once
 * when one of its discrete fields changes (briefKey): a safety transition shows in the overview
 * within one telemetry period, not one brief period.
 */
import { z } from 'zod';
import { StateSummarySchema, type StateSummary } from './payloads.js';

/** The period of the brief when nothing discrete changes (1 Hz). */
export const BRIEF_PERIOD_MS = 1000;

const S = StateSummarySchema.shape;

export const StateBriefSchema = z.strictObject({
  v: z.literal(1),
  robot: S.robot,
  /** The summary's time (wall-clock ms): when the robot measured what the brief says. */
  at: S.at,
  /** The brief's own sequence number (not the summary's). */
  seq: z.number().int().nonnegative(),
  safety: S.safety,
  /** The serial link's state (the summary's `link.state`). */
  link: S.link.shape.state,
  /** The command mode last sent (the summary's `sent.mode`); null before the first command. */
  mode: z.string().max(16).nullable(),
  fleetLatch: S.fleetLatch,
  metrics: S.metrics,
  task: S.task,
});
export type StateBrief = z.infer<typeof StateBriefSchema>;

/** The brief of a state summary, numbered `seq`. */
export function briefOf(s: StateSummary, seq: number): StateBrief {
  return {
    v: 1, robot: s.robot, at: s.at, seq,
    safety: s.safety, link: s.link.state, mode: s.sent?.mode ?? null, fleetLatch: s.fleetLatch,
    ...(s.metrics !== undefined ? { metrics: s.metrics } : {}),
    ...(s.task !== undefined ? { task: s.task } : {}),
  };
}

/** The discrete fields of a summary's brief, as one string: when it changes, the brief goes out at once. */
export function briefKey(s: StateSummary): string {
  return JSON.stringify([s.safety.state, s.safety.latched, s.safety.mcuLatched ?? null, s.safety.cause ?? null, s.link.state, s.sent?.mode ?? null, s.fleetLatch, s.task ?? null]);
}

/**
 * Decides when a brief is due, given the summaries as they are built (at the telemetry rate): the
 * first one, one at least BRIEF_PERIOD_MS after the last brief, or one whose discrete fields
 * changed. No timer of its own: the brief rides on the summary's tick.
 */
export class BriefSchedule {
  private lastAt = Number.NEGATIVE_INFINITY;
  private lastKey: string | null = null;

  constructor(private readonly periodMs = BRIEF_PERIOD_MS) {
    if (!(periodMs > 0)) throw new RangeError(`brief period ${periodMs} ms must be positive`);
  }

  /** True when the brief of `s` should go out now (`nowMs` on any monotonic-enough clock); records it as sent. */
  due(s: StateSummary, nowMs: number): boolean {
    const key = briefKey(s);
    if (key === this.lastKey && nowMs - this.lastAt < this.periodMs) return false;
    this.lastKey = key;
    this.lastAt = nowMs;
    return true;
  }
}
