/**
 * The daemon's configuration against its serial line, at start-up: the rates the link and the
 * control loop will run at (edge/serial/line-budget.ts) for the configured robot, with the keys
 * they come from, so a refusal names what to change.
 */
import type { EdgeConfig } from './config.js';
import { checkLine, type LineCheck, type LineLoadInput } from './serial/line-budget.js';

/** What SerialLink runs at by default (its heartbeatIntervalMs and timeSyncFastIntervalMs). */
const HEARTBEAT_MS = 20;
const TIME_SYNC_FAST_MS = 50;

export interface LineFit {
  check: LineCheck;
  input: LineLoadInput;
  /** Bytes/s the wire is paced to; null when the line has no baud limit (USB CDC). */
  bytesPerSecond: number | null;
  /** The command rate to run at: control.rateHz, or lower when fitted. */
  commandRateHz: number;
  /** Things to log as warnings: a fitted rate, or COMMANDs that will be shed. */
  warnings: string[];
  /** Set when the daemon must not start, with every reason. */
  refusal: string | null;
}

export function lineFitOf(config: EdgeConfig): LineFit {
  const p = config.profileData;
  const baud = config.serial.baudRate ?? p.serial.baudRate;
  const input: LineLoadInput = {
    baudRate: config.serial.usbCdc ? null : baud,
    jointCount: p.joints.length,
    imu: p.imu !== null,
    orientation: p.imu?.fusedOrientation ?? false,
    stateRateHz: config.serial.stateRateHz ?? p.serial.stateRateHz,
    commandRateHz: config.control.rateHz,
    heartbeatMs: HEARTBEAT_MS,
    timeSyncHz: 1000 / TIME_SYNC_FAST_MS,
  };
  const keys = {
    baudRate: config.serial.baudRate !== undefined ? 'serial.baudRate' : `profile ${p.id} serial.baudRate`,
    stateRateHz: config.serial.stateRateHz !== undefined ? 'serial.stateRateHz' : `profile ${p.id} serial.stateRateHz`,
    commandRateHz: 'control.rateHz',
    set: { baudRate: 'serial.baudRate', stateRateHz: 'serial.stateRateHz' },
  };
  const mode = config.serial.lineOverload;
  const check = checkLine(input, keys, mode === 'fit-command-rate');
  const bytesPerSecond = input.baudRate === null ? null : input.baudRate / 10;
  if (check.ok) {
    return { check, input, bytesPerSecond, commandRateHz: check.commandRateHz, warnings: check.note === null ? [] : [`serial.lineOverload=fit-command-rate: ${check.note}`], refusal: null };
  }
  // "shed" runs a command rate that does not fit: the wire sheds what the line cannot take.
  const shedOnly = mode === 'shed' && check.problems.every((t) => t.startsWith('host → MCU'));
  if (shedOnly) {
    return { check, input, bytesPerSecond, commandRateHz: input.commandRateHz, warnings: check.problems.map((t) => `serial.lineOverload=shed: ${t}; COMMANDs that do not fit are shed`), refusal: null };
  }
  const hint = mode === 'refuse' && check.problems.some((t) => t.startsWith('host → MCU')) ? ' (or set serial.lineOverload to "fit-command-rate" or "shed" for the command rate)' : '';
  return { check, input, bytesPerSecond, commandRateHz: input.commandRateHz, warnings: [], refusal: `${check.problems.join('; ')}${hint}` };
}
