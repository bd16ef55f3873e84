/**
 * The parent's handle on the dashboard bench's synthetic fleet (dashboard-fleet-child.ts): forks
 * it tethered to this process, and asks it over IPC to connect, publish, report and stop.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnNodeChild } from '../../edge/process/tethered-child.js';
import type { FleetConfig, FleetStats, FromChild, ToChild } from './dashboard-fleet-child.js';
import { benchChildEntry } from './child-entry.js';

export type { FleetStats } from './dashboard-fleet-child.js';

const childCommand = (): { path: string; execArgv: string[] } => benchChildEntry('dashboard-fleet-child');

export class FleetProcess {
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess, readonly sizes: { quadBytes: number; armBytes: number; briefBytes: number }) {
    child.once('exit', (code, signal) => { this.exited = `the fleet process exited (${signal ?? code})`; });
  }

  /** Starts the fleet and waits until every robot, the viewer and the prober are connected. */
  static start(config: FleetConfig): Promise<FleetProcess> {
    const { path, execArgv } = childCommand();
    const child = spawnNodeChild([...execArgv, path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the fleet process exited with code ${code} before it was ready`));
      child.once('error', reject);
      child.once('exit', onExit);
      const onMessage = (m: FromChild): void => {
        if (m.type === 'error') { child.kill('SIGKILL'); reject(new Error(`fleet process: ${m.message}`)); }
        if (m.type !== 'ready') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(new FleetProcess(child, m));
      };
      child.on('message', onMessage);
      child.send({ type: 'init', config } satisfies ToChild);
    });
  }

  private ask<T extends FromChild['type']>(msg: ToChild, answer: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.child.off('message', on); reject(new Error(`fleet process: no ${answer} within ${timeoutMs} ms`)); }, timeoutMs);
      const on = (m: FromChild): void => {
        if (m.type !== answer) return;
        clearTimeout(timer);
        this.child.off('message', on);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      this.child.on('message', on);
      this.child.send(msg);
    });
  }

  load(on: boolean): void {
    if (!this.exited) this.child.send({ type: 'load', on } satisfies ToChild);
  }

  async stats(timeoutMs = 20_000): Promise<FleetStats> {
    return (await this.ask({ type: 'stats' }, 'stats', timeoutMs)).stats;
  }

  /** Waits (at most maxMs) for the viewer to have taken what was published. */
  async drain(maxMs: number): Promise<void> {
    await this.ask({ type: 'drain', maxMs }, 'drained', maxMs + 10_000);
  }

  /** Ends the clients and the process (killed if it has not gone within 5 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => { clearTimeout(t); resolve(); });
      this.child.send({ type: 'quit' } satisfies ToChild);
    });
  }
}
