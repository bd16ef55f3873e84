/**
 * Each robot's current task (an operator's natural-language instruction), kept across sessions so
 * a robot that reconnects resumes its task. Task ids are unique within a brain process.
 */
import type { Task } from '../backends/backend.js';

export const NO_TASK: Task = { taskId: '', instruction: '' };

export class TaskStore {
  private readonly tasks = new Map<string, Task>();
  private next = 1;

  constructor(private readonly prefix = `t${Date.now().toString(36)}`) {}

  get(robotId: string): Task {
    return this.tasks.get(robotId) ?? NO_TASK;
  }

  set(robotId: string, instruction: string): Task {
    const task = { taskId: `${this.prefix}-${this.next++}`, instruction };
    this.tasks.set(robotId, task);
    return task;
  }
}
