/**
 * Each robot's current task (an operator's natural-language instruction), kept across sessions so
 * a robot that reconnects resumes its task. Two stores: `memory` (this brain process only: a
 * restart forgets every task) and `mqtt` (mqtt-task-store.ts: retained topics on the fleet's
 * broker, shared by every brain replica and surviving restarts).
 *
 * Invariant: `get` never waits and never fails (sessions read it on every observation); `set`
 * resolves only once the task is stored as durably as the store can, and rejects with
 * TaskStoreUnavailable otherwise, so an operator is never told a task was set that was not.
 */
import type { Task } from '../backends/backend.js';

export const NO_TASK: Task = { taskId: '', instruction: '' };

/** The store cannot take a write now; the message names the store (its broker) and why. */
export class TaskStoreUnavailable extends Error {
  override readonly name = 'TaskStoreUnavailable';
}

export interface TaskStoreEvents {
  /** A robot's task changed: set here, or by another replica (a session of that robot gets it). */
  onChange(robotId: string, task: Task): void;
  /** The store became usable (true) or not (false, with why). */
  onAvailability(up: boolean, why: string): void;
  /** A record in the store ignored: not a valid record, or older than the one held. */
  onRejected(reason: 'invalid' | 'stale'): void;
  /** A write answered unavailable. */
  onRefused(reason: 'disconnected' | 'ack-timeout' | 'error'): void;
  /** Writes sent and not yet acknowledged. */
  onPending(n: number): void;
}

export interface TaskStore {
  readonly kind: 'memory' | 'mqtt';
  /** Whether `set` can succeed now. */
  readonly available: boolean;
  get(robotId: string): Task;
  set(robotId: string, instruction: string): Promise<Task>;
  /** Where change and availability notifications go (one listener: the brain server). */
  listen(events: Partial<TaskStoreEvents>): void;
  close(): Promise<void>;
}

export class MemoryTaskStore implements TaskStore {
  readonly kind = 'memory';
  readonly available = true;
  private readonly tasks = new Map<string, Task>();
  private next = 1;
  private events: Partial<TaskStoreEvents> = {};

  constructor(private readonly prefix = `t${Date.now().toString(36)}`) {}

  get(robotId: string): Task {
    return this.tasks.get(robotId) ?? NO_TASK;
  }

  set(robotId: string, instruction: string): Promise<Task> {
    const task = { taskId: `${this.prefix}-${this.next++}`, instruction };
    this.tasks.set(robotId, task);
    this.events.onChange?.(robotId, task);
    return Promise.resolve(task);
  }

  listen(events: Partial<TaskStoreEvents>): void {
    this.events = events;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
