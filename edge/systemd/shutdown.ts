/**
 * SIGTERM/SIGINT → a controlled stop: the stop goes on the serial wire FIRST (stopOnWire), then
 * systemd hears STOPPING=1, then the rest closes (onStop: MQTT offline status, serial link...)
 * within a deadline, then the process exits. A second signal while stopping changes nothing;
 * a stop that overruns its deadline exits with status 1 (systemd's TimeoutStopSec is the backstop).
 */
import type { Notifier } from './sd-notifier.js';

export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShutdownOptions {
  /** Puts ESTOP/HOLD on the wire and resolves once it is there (or confirmed); true when it was. */
  stopOnWire(signal: string): boolean | Promise<boolean>;
  /** Everything else: publish offline, stop the link, flush logs. */
  onStop?(signal: string): Promise<void>;
  notifier?: Notifier;
  logger: ShutdownLogger;
  /** Default 3000 ms for stopOnWire and onStop together. */
  timeoutMs?: number;
  /** Default: process. */
  signals?: { once(sig: 'SIGTERM' | 'SIGINT', fn: () => void): unknown; off(sig: 'SIGTERM' | 'SIGINT', fn: () => void): unknown };
  /** Default: process.exit. */
  exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Resolves with the exit code once the controlled stop has finished. */
  readonly done: Promise<number>;
  /** Starts the same sequence without a signal (e.g. a fatal error). */
  trigger(reason: string): Promise<number>;
  uninstall(): void;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export function installShutdown(opts: ShutdownOptions): ShutdownHandle {
  const signals = opts.signals ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.timeoutMs ?? 3000;
  const log = opts.logger;
  let running: Promise<number> | null = null;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => { resolveDone = r; });

  const sequence = async (reason: string): Promise<number> => {
    const started = Date.now();
    let code = 0;
    log.info({ reason }, 'controlled stop: stopping motion on the wire');
    try {
      const onWire = await withDeadline(Promise.resolve().then(() => opts.stopOnWire(reason)), timeoutMs, 'stop on the wire');
      if (!onWire) { code = 1; log.error({ reason }, 'stop could not be put on the wire (the MCU watchdog will stop the robot)'); }
    } catch (err) {
      code = 1;
      log.error({ reason, err: (err as Error).message }, 'stop on the wire failed (the MCU watchdog will stop the robot)');
    }
    await opts.notifier?.notify({ STOPPING: 1, STATUS: `stopping (${reason})` }).catch((err: Error) => log.warn({ err: err.message }, 'STOPPING=1 not sent'));
    try {
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      if (opts.onStop) await withDeadline(opts.onStop(reason), left, 'shutdown');
    } catch (err) {
      code = 1;
      log.error({ reason, err: (err as Error).message }, 'shutdown incomplete');
    }
    log.info({ reason, code, ms: Date.now() - started }, 'controlled stop finished');
    await opts.notifier?.close().catch(() => undefined);
    return code;
  };

  const trigger = (reason: string): Promise<number> => {
    if (running) {
      log.warn({ reason }, 'already stopping');
      return running;
    }
    running = sequence(reason).then((code) => { resolveDone(code); exit(code); return code; });
    return running;
  };
  const onTerm = (): void => void trigger('SIGTERM');
  const onInt = (): void => void trigger('SIGINT');
  signals.once('SIGTERM', onTerm);
  signals.once('SIGINT', onInt);
  return {
    done,
    trigger,
    uninstall: () => { signals.off('SIGTERM', onTerm); signals.off('SIGINT', onInt); },
  };
}
