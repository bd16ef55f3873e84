/**
 * A robot's task as the brains store it: the retained message on `spinal/v1/<fleet>/<robot>/task`
 * (QoS 1). Every brain replica reads all of them into a mirror and writes one when an operator
 * sets a task; the dashboard may read them.
 *
 * Ordering rule (a stale write never overrides a newer one): records are totally ordered by
 * (`at`, `writer`, `taskId`), compared in that order (numbers numerically, strings by code unit).
 * A writer stamps a new record with `at` = max(its wall clock, the newest `at` it holds for that
 * robot + 1), so a task set after another was seen always orders after it, even across replicas
 * with skewed clocks. A receiver keeps a record only when it orders after the one it holds; the
 * broker keeps whatever arrived last, so a receiver that sees an older record arrive after a newer
 * one writes the newer one again (the retained value converges on the greatest record).
 */
import { z } from 'zod';

const UserName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);

export const MAX_TASK_INSTRUCTION_CHARS = 2000;

export const TaskRecordSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('task'),
  /** Must equal the robot level of the topic it is on. */
  robot: UserName,
  taskId: z.string().min(1).max(128),
  instruction: z.string().min(1).max(MAX_TASK_INSTRUCTION_CHARS),
  /** Ordering stamp: epoch ms, raised past the newest seen (see the rule above). */
  at: z.number().int().nonnegative(),
  /** The brain replica that wrote it (tie-break of equal stamps). */
  writer: UserName,
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

/** < 0: a orders before b; 0: same record; > 0: a orders after b. */
export function compareTaskRecords(a: TaskRecord, b: TaskRecord): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.writer !== b.writer) return a.writer < b.writer ? -1 : 1;
  if (a.taskId !== b.taskId) return a.taskId < b.taskId ? -1 : 1;
  return 0;
}

/** The stamp of a new record: the wall clock, or just past the newest one held for that robot. */
export function nextTaskStamp(nowMs: number, newest: TaskRecord | undefined): number {
  return Math.max(Math.floor(nowMs), newest !== undefined ? newest.at + 1 : 0);
}
