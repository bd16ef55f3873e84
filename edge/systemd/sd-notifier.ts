/**
 * sd_notify(3) for Node: READY, STATUS, WATCHDOG, STOPPING... sent as datagrams to $NOTIFY_SOCKET
 * through the relay helper (notify-helper.ts). Without NOTIFY_SOCKET (not under systemd, or
 * Type=simple), or when no helper was built at install, it is a no-op notifier whose `disabled`
 * says why, so the daemon calls it unconditionally and logs that reason once.
 *
 * Invariant: answers come back in the order messages were written, so `pending` is a FIFO and
 * every notify() settles: with the helper's answer, or rejected when the helper exits.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnProgram } from '../process/tethered-child.js';
import { findNotifyHelper, type HelperLocation } from './notify-helper.js';

export type NotifyFields = Record<string, string | number>;

export interface Notifier {
  /** True when messages actually go to a notify socket. */
  readonly enabled: boolean;
  readonly socket: string | null;
  /** Why messages go nowhere although NOTIFY_SOCKET is set (no helper installed); else null. */
  readonly disabled: string | null;
  /** Sends one datagram `K=V\n...`; resolves once sent. Never rejects when disabled. */
  notify(fields: NotifyFields): Promise<void>;
  close(): Promise<void>;
}

export class NotifyError extends Error {
  override readonly name = 'NotifyError';
}

/** `KEY=value` lines; keys are upper-case identifiers, values one line (newlines become spaces). */
export function formatNotify(fields: NotifyFields): string {
  return Object.entries(fields).map(([k, v]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new NotifyError(`sd_notify key ${JSON.stringify(k)} must be upper-case letters, digits or "_"`);
    return `${k}=${String(v).replace(/[\n\0]/g, ' ')}`;
  }).join('\n');
}

function noop(socket: string | null, why: string | null): Notifier {
  return { enabled: false, socket, disabled: why, notify: () => Promise.resolve(), close: () => Promise.resolve() };
}

class HelperNotifier implements Notifier {
  readonly enabled = true;
  readonly disabled = null;
  private readonly pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private buffered = '';
  private exited = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams, readonly socket: string) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onAnswers(chunk));
    child.stdin.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      this.exited = true;
      const err = new NotifyError(`sd_notify helper exited (${signal ?? code}) with ${this.pending.length} message(s) unsent`);
      for (const p of this.pending.splice(0)) p.reject(err);
    });
  }

  notify(fields: NotifyFields): Promise<void> {
    const text = formatNotify(fields);
    if (this.exited) return Promise.reject(new NotifyError(`sd_notify helper has exited; not sent: ${text}`));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${text}\0`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    await gone;
  }

  private onAnswers(chunk: string): void {
    this.buffered += chunk;
    let nl;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue;
      if (line === 'ok') p.resolve();
      else p.reject(new NotifyError(`sd_notify to ${this.socket}: ${line.replace(/^err /, '')}`));
    }
  }
}

export interface NotifierOptions extends HelperLocation {
  env?: NodeJS.ProcessEnv;
}

/**
 * A notifier for $NOTIFY_SOCKET; the no-op one when it is unset or no helper was installed.
 * Throws NotifyHelperError when the helper's path is unsafe (notify-helper.ts): never runs it.
 */
export function createNotifier(opts: NotifierOptions = {}): Notifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return noop(null, null);
  const found = findNotifyHelper(opts);
  if (!found.ok) return noop(socket, found.why);
  const bin = found.path;
  const child = spawnProgram(bin, ['send'], { stdio: ['pipe', 'pipe', 'pipe'], env: { NOTIFY_SOCKET: socket } }) as ChildProcessWithoutNullStreams;
  return new HelperNotifier(child, socket);
}
