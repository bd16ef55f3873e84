/**
 * A QEMU Machine Protocol client over a Unix socket: JSON objects, one per line; a greeting, then
 * `qmp_capabilities`, then one command at a time, each answered by `return` or `error`, with
 * asynchronous `event` lines in between (handed to nextEvent() waiters, else ignored). Hand-written because it is these forty
 * lines: the npm QMP clients found are unmaintained wrappers of the same socket code.
 */
import { connect, type Socket } from 'node:net';

export class QmpError extends Error {
  override readonly name = 'QmpError';
}

export class Qmp {
  private buf = '';
  private readonly waiting: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void; what: string }> = [];
  private greeted: Promise<void>;
  private closedError: Error | null = null;
  private readonly eventWaiters: Array<{ name: string; resolve: () => void; reject: (e: Error) => void }> = [];

  private constructor(private readonly sock: Socket) {
    let greet: () => void = () => undefined;
    this.greeted = new Promise<void>((r) => { greet = r; });
    let seenGreeting = false;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { class: string; desc: string }; event?: string };
        if (!seenGreeting && msg.QMP !== undefined) {
          seenGreeting = true;
          greet();
        } else if (msg.return !== undefined || msg.error !== undefined) {
          const w = this.waiting.shift();
          if (!w) continue;
          if (msg.error) w.reject(new QmpError(`QMP ${w.what}: ${msg.error.class}: ${msg.error.desc}`));
          else w.resolve(msg.return);
        } else if (msg.event !== undefined) {
          for (let i = this.eventWaiters.length - 1; i >= 0; i--) {
            const w = this.eventWaiters[i];
            if (w?.name === msg.event) {
              this.eventWaiters.splice(i, 1);
              w.resolve();
            }
          }
        }
      }
    });
    const fail = (e: Error): void => {
      this.closedError ??= e;
      for (const w of this.waiting.splice(0)) w.reject(e);
      for (const w of this.eventWaiters.splice(0)) w.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new QmpError('QMP connection closed')));
  }

  /** Connects to a QMP socket and negotiates capabilities. */
  static async connect(path: string): Promise<Qmp> {
    const sock = connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const q = new Qmp(sock);
    await q.greeted;
    await q.execute('qmp_capabilities');
    return q;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject, what: command });
      this.sock.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  /**
   * Resolves at the next asynchronous event `name` (e.g. RESET). Register it before the command
   * that causes the event: QEMU may send the event before the command's return.
   */
  nextEvent(name: string): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<void>((resolve, reject) => { this.eventWaiters.push({ name, resolve, reject }); });
  }

  /** A human monitor command's text output (e.g. `xp /4wx 0x20000000`). */
  hmp(commandLine: string): Promise<string> {
    return this.execute<string>('human-monitor-command', { 'command-line': commandLine });
  }

  close(): void {
    this.sock.destroy();
  }
}
