/**
 * The daemon's logger: pino JSON lines on stdout, which journald collects under systemd. Written
 * synchronously so the last lines before a crash are not lost in a buffer.
 */
import { pino, type Logger } from 'pino';

export function createLogger(opts: { level: string; robotId: string; fd?: 1 | 2 }): Logger {
  return pino({ level: opts.level, base: { robot: opts.robotId } }, pino.destination({ fd: opts.fd ?? 1, sync: true }));
}
