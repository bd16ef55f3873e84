/**
 * A datagram socket standing in for systemd's notify socket (tests, diagnostics): every message
 * received is parsed into fields and kept in order. Built on the relay helper's listen mode.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnProgram } from '../process/tethered-child.js';
import { requireNotifyHelper, type HelperLocation } from './notify-helper.js';

export interface NotifyMessage {
  fields: Record<string, string>;
  /** performance.now() when the listener's process read it. */
  at: number;
}

export class NotifyListener {
  readonly messages: NotifyMessage[] = [];
  private buffered = Buffer.alloc(0);
  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly socket: string) {}

  /** Binds `socket` (a path, or "@name" for the abstract namespace) and resolves once bound. */
  static async open(socket: string, loc: HelperLocation = {}): Promise<NotifyListener> {
    const child = spawnProgram(requireNotifyHelper(loc), ['listen', socket], { stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
    const listener = new NotifyListener(child, socket);
    await new Promise<void>((resolve, reject) => {
      let bound = false;
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.once('exit', (code) => { if (!bound) reject(new Error(`notify listener on ${socket} exited (${code}): ${stderr.trim()}`)); });
      child.stdout.on('data', (d: Buffer) => {
        listener.buffered = Buffer.concat([listener.buffered, d]);
        let nul;
        while ((nul = listener.buffered.indexOf(0)) >= 0) {
          const record = listener.buffered.subarray(0, nul).toString('utf8');
          listener.buffered = listener.buffered.subarray(nul + 1);
          if (!bound) { bound = true; resolve(); continue; }
          listener.messages.push({ fields: parseFields(record), at: performance.now() });
        }
      });
    });
    return listener;
  }

  /** Messages that set `key`. */
  withKey(key: string): NotifyMessage[] {
    return this.messages.filter((m) => key in m.fields);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    await gone;
  }
}

function parseFields(record: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of record.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
