/**
 * What every conformance check gets (the session, the profile, the CONFIG the profile implies) and
 * what it returns: pass, fail or skipped, with the figures it measured and one line saying why.
 */
import type { CommandMode} from '../../proto/wire/index.js';
import { MsgType, newCommand, type ConfigMsg } from '../../proto/wire/index.js';
import type { RobotProfile } from '../../hardware/index.js';
import type { WireSession } from './wire-session.js';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was measured, with units in the key (`replyMs`, `rateHz`, ...). */
  figures: Record<string, number | string | boolean>;
  /** One line: what was seen, naming the offending value on a failure. */
  detail: string;
}

export interface CheckContext {
  session: WireSession;
  profile: RobotProfile;
  /** CONFIG built from the profile (its limits, watchdog and STATE rate). */
  config: ConfigMsg;
  software: { major: number; minor: number; patch: number };
  /** How long an ACK (and a STATE showing its effect) may take: ACK_TIMEOUT_MS unless the user
   * gives more for a slow bridge or an emulator (QEMU holds host bytes for up to about a second). */
  ackTimeoutMs: number;
}

/** Builder for one check's result. */
export class Outcome {
  readonly figures: Record<string, number | string | boolean> = {};
  constructor(readonly id: string, readonly title: string) {}
  figure(key: string, value: number | string | boolean): this {
    this.figures[key] = typeof value === 'number' ? round(value) : value;
    return this;
  }
  pass(detail: string): CheckResult {
    return { id: this.id, title: this.title, status: 'pass', figures: this.figures, detail };
  }
  fail(detail: string): CheckResult {
    return { id: this.id, title: this.title, status: 'fail', figures: this.figures, detail };
  }
}

function round(v: number): number {
  return Number.isInteger(v) ? v : Math.round(v * 1000) / 1000;
}

/** The default ACK wait: a bare-metal MCU answers within a loop or two; 500 ms leaves room for
 * USB-serial latency and a busy host. */
export const ACK_TIMEOUT_MS = 500;
export const HELLO_TIMEOUT_MS = 1000;
/** The longest a controlled stop may take (SPEC §4). */
export const STOP_LIMIT_MS = 1000;

/** u32 microsecond difference a − b, for clocks that wrap. */
export function usSince(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d >= 0x80000000 ? d - 0x100000000 : d;
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/**
 * Keeps the MCU's watchdog fed with HEARTBEAT while a check needs the drives on. Stopped for the
 * watchdog check, and at the end. Period: a quarter of the watchdog timeout, at most 25 ms.
 */
export class HeartbeatPump {
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly session: WireSession, private readonly watchdogMs: number) {}
  start(): void {
    if (this.timer) return;
    this.session.send(MsgType.HEARTBEAT, { hostState: 2 });
    this.timer = setInterval(() => this.session.send(MsgType.HEARTBEAT, { hostState: 2 }), Math.max(2, Math.min(25, this.watchdogMs / 4)));
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** A COMMAND without targets (N = 0), for DISABLE and HOLD. */
export function bareCommand(mode: typeof CommandMode.DISABLE | typeof CommandMode.HOLD) {
  const c = newCommand();
  c.jointCount = 0;
  c.mode = mode;
  return c;
}
