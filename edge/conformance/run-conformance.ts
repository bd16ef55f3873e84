/**
 * `spinal conformance`: runs the checks of SPEC.md §4 against an MCU on a serial port, in an order
 * where each check leaves the MCU as the next one expects it (handshake and CONFIG first; motion
 * only after every check that cannot move anything passed its part). Prints one line per check
 * and, with `json`, writes the whole report. The drives are left powered off (COMMAND DISABLE).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { CommandMode, MsgType } from '../../proto/wire/index.js';
import type { RobotProfile } from '../../hardware/index.js';
import { buildConfig } from '../serial/handshake.js';
import { SerialPortTransport } from '../serial/serialport-transport.js';
import type { Transport } from '../serial/transport.js';
import { ACK_TIMEOUT_MS, HeartbeatPump, bareCommand, type CheckContext, type CheckResult } from './check-context.js';
import { checkConfig, checkFaults, checkHandshake, checkLineErrors, checkResetToken, checkStateRate, checkTimeSync, checkVersionRefusal } from './checks-link.js';
import { clampingCheck, estopCheck, malformedEstopCheck, watchdogCheck } from './checks-safety.js';
import { describeMotion, planClampMotion } from './motion-plan.js';
import { WireSession } from './wire-session.js';

export const CHECK_IDS = [
  'handshake', 'version-refusal', 'config', 'state-rate', 'time-sync', 'line-errors', 'reset-token',
  'estop-cat0', 'estop-cat1', 'estop-cat2', 'malformed-estop', 'clamping', 'watchdog', 'faults',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
/** MCU watchdog while the tool runs other checks, ms. */
const WORKING_WATCHDOG_MS = 1000;
/** Run whatever else is asked: without them no other check can run. */
const PREREQUISITES: readonly CheckId[] = ['handshake', 'config'];
const MOVES: ReadonlySet<CheckId> = new Set(['estop-cat0', 'estop-cat1', 'estop-cat2', 'malformed-estop', 'clamping', 'watchdog']);

export interface ConformanceOptions {
  port: string;
  profile: RobotProfile;
  /** Default: the profile's serial.baudRate. */
  baudRate?: number;
  /** Only these checks (plus handshake and config); default all. */
  only?: readonly CheckId[];
  /** Asked once before anything powers the drives, with what will happen; false stops there. */
  confirm: (plan: string[]) => Promise<boolean>;
  /** Report lines go here. */
  out: (line: string) => void;
  json?: string;
  software?: { major: number; minor: number; patch: number };
  /** ACK wait, ms (default ACK_TIMEOUT_MS); the report states it when it is not the default. */
  ackTimeoutMs?: number;
  /** Injected for tests; default a SerialPortTransport on `port`. */
  transport?: Transport;
}

export interface ConformanceReport {
  port: string;
  profile: string;
  startedAt: string;
  checks: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export function isCheckId(s: string): s is CheckId {
  return (CHECK_IDS as readonly string[]).includes(s);
}

function line(r: CheckResult): string {
  return `  ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP'}  ${r.id.padEnd(16)} ${r.detail}`;
}

export async function runConformance(o: ConformanceOptions): Promise<ConformanceReport> {
  const profile = o.profile;
  const transport = o.transport ?? new SerialPortTransport(o.port, o.baudRate ?? profile.serial.baudRate, { lowLatency: true });
  const selected = new Set<CheckId>(o.only ? [...PREREQUISITES, ...o.only] : CHECK_IDS);
  const report: ConformanceReport = { port: o.port, profile: profile.id, startedAt: new Date().toISOString(), checks: [], passed: 0, failed: 0, skipped: 0 };
  const wantsMotion = [...selected].some((id) => MOVES.has(id));
  if (wantsMotion && !(await o.confirm(describeMotion(profile)))) {
    throw new Error('not confirmed: nothing was sent to the MCU');
  }
  await transport.open();
  const session = new WireSession(transport);
  const c: CheckContext = {
    session, profile,
    // A lenient watchdog for every check but the watchdog's own: a stalled host (this tool on a
    // busy machine) must not trip it in the middle of another check. The watchdog check sets the
    // profile's timeout for its duration.
    config: buildConfig(profile, Math.max(WORKING_WATCHDOG_MS, profile.serial.watchdogMs), profile.serial.stateRateHz),
    software: o.software ?? { major: 0, minor: 1, patch: 0 },
    ackTimeoutMs: o.ackTimeoutMs ?? ACK_TIMEOUT_MS,
  };
  if (c.ackTimeoutMs !== ACK_TIMEOUT_MS) o.out(`  (ACK wait ${c.ackTimeoutMs} ms instead of ${ACK_TIMEOUT_MS} ms, as asked)`);
  const pump = new HeartbeatPump(session, c.config.watchdogMs);
  const checks: Record<CheckId, (ctx: CheckContext) => Promise<CheckResult>> = {
    'handshake': checkHandshake,
    'version-refusal': checkVersionRefusal,
    'config': checkConfig,
    'state-rate': checkStateRate,
    'time-sync': checkTimeSync,
    'line-errors': checkLineErrors,
    'reset-token': checkResetToken,
    'estop-cat0': estopCheck(0, pump),
    'estop-cat1': estopCheck(1, pump),
    'estop-cat2': estopCheck(2, pump),
    'malformed-estop': malformedEstopCheck(pump),
    'clamping': clampingCheck(pump, () => {
      const st = session.latestState();
      return st ? planClampMotion(profile, c.config, st.msg.position) : 'no STATE to plan the motion from';
    }),
    'watchdog': watchdogCheck(pump),
    'faults': checkFaults,
  };
  o.out(`spinal conformance: ${o.port}, profile ${profile.id}`);
  let blocked: string | null = null;
  try {
    for (const id of CHECK_IDS) {
      if (!selected.has(id)) continue;
      let r: CheckResult;
      if (blocked !== null) {
        r = { id, title: id, status: 'skipped', figures: {}, detail: `not run: ${blocked}` };
      } else {
        try {
          r = await checks[id](c);
        } catch (e) {
          r = { id, title: id, status: 'fail', figures: {}, detail: `the check stopped: ${(e as Error).message}` };
        }
        if (r.status === 'fail' && PREREQUISITES.includes(id)) blocked = `${id} failed`;
      }
      report.checks.push(r);
      o.out(line(r));
    }
  } finally {
    pump.stop();
    session.send(MsgType.COMMAND, bareCommand(CommandMode.DISABLE));
    session.close();
    await transport.close();
  }
  for (const r of report.checks) report[r.status === 'pass' ? 'passed' : r.status === 'fail' ? 'failed' : 'skipped']++;
  o.out(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  if (o.json) {
    // Whole or not at all: a reader never sees half a report.
    writeFileSync(`${o.json}.tmp`, JSON.stringify(report, null, 2) + '\n');
    renameSync(`${o.json}.tmp`, o.json);
  }
  return report;
}
