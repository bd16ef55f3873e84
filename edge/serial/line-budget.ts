/**
 * What a serial line can carry, and what the daemon's configuration asks of it: bytes per second
 * each way, from the frame sizes on the wire (header, CRC, COBS code bytes and the delimiter;
 * SPEC.md §2 and §5) and the rates the link runs at.
 *
 * MCU → host: STATE at the configured STATE rate, and a TIME_SYNC_RESP per request.
 * Host → MCU: COMMAND at the command (control) rate, TIME_SYNC_REQ at the link's fast sync rate
 * (the rate until its estimate converges; afterwards it halves), and HEARTBEAT at the heartbeat
 * rate when COMMANDs alone do not feed the watchdog that often.
 *
 * A configuration fits when each direction stays within LINE_HEADROOM of the line's capacity: the
 * rest is kept for what is not periodic (ESTOP, RESET and its ACK, HELLO, CONFIG, LOG) and for the
 * baud error of real UART clocks (a few percent between two crystals' dividers).
 */
import { stateFrameBytes } from '../../hardware/index.js';

/** UART 8N1: a start bit, 8 data bits and a stop bit per byte. */
export const BITS_PER_BYTE = 10;
/** Share of a line's capacity the periodic traffic may use, each way. */
export const LINE_HEADROOM = 0.9;
/** Lowest command rate `fitCommandRate` settles for; below it the configuration is refused. */
export const MIN_FITTED_COMMAND_HZ = 10;

/** Bytes on the wire for a packet of `packet` bytes (header + body + CRC): COBS code bytes and the 0x00. */
export function wireBytesOfPacket(packet: number): number {
  return packet + Math.floor(packet / 254) + 1 + 1;
}
/** COMMAND for `jointCount` joints, on the wire (body 4 + 12·N). */
export function commandFrameBytes(jointCount: number): number {
  return wireBytesOfPacket(8 + 4 + 12 * jointCount + 4);
}
/** HEARTBEAT, ESTOP and TIME_SYNC_REQ (4-byte bodies), on the wire. */
export const SMALL_FRAME_BYTES = wireBytesOfPacket(8 + 4 + 4);
/** TIME_SYNC_RESP (12-byte body), on the wire. */
export const TIME_SYNC_RESP_BYTES = wireBytesOfPacket(8 + 12 + 4);
export { stateFrameBytes };

/** Bytes per second a line carries: baud / 10 for a UART; null for a line with no baud limit. */
export function lineBytesPerSecond(baudRate: number | null): number | null {
  return baudRate === null ? null : baudRate / BITS_PER_BYTE;
}

export interface LineLoadInput {
  /** Line speed in baud; null for native USB CDC, whose "baud rate" limits nothing. */
  baudRate: number | null;
  jointCount: number;
  /** STATE carries the IMU block, and the fused-orientation block. */
  imu: boolean;
  orientation: boolean;
  stateRateHz: number;
  commandRateHz: number;
  /** Longest gap between watchdog feeds (the link's heartbeat interval), ms. */
  heartbeatMs: number;
  /** TIME_SYNC_REQ rate at its fastest (until converged), Hz. */
  timeSyncHz: number;
}

export interface DirectionLoad {
  /** Bytes/s per traffic kind, e.g. { STATE: 7500, TIME_SYNC_RESP: 520 }. */
  parts: Record<string, number>;
  bytesPerSecond: number;
}

export interface LineLoad {
  /** Line capacity in bytes/s; null when unlimited. */
  capacity: number | null;
  /** LINE_HEADROOM of the capacity: what the periodic traffic may use each way. */
  usable: number | null;
  up: DirectionLoad;
  down: DirectionLoad;
  /** Wire bytes of one frame, for the messages above. */
  frames: { state: number; command: number; heartbeat: number; timeSyncReq: number; timeSyncResp: number };
}

function direction(parts: Record<string, number>): DirectionLoad {
  return { parts, bytesPerSecond: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** HEARTBEATs/s the host sends besides `commandRateHz` COMMANDs (one per gap longer than the interval). */
export function heartbeatRateHz(commandRateHz: number, heartbeatMs: number): number {
  const hz = 1000 / heartbeatMs;
  return commandRateHz >= hz ? 0 : hz;
}

/** The periodic load on each direction of the line. */
export function lineLoad(i: LineLoadInput): LineLoad {
  const frames = {
    state: stateFrameBytes(i.jointCount, i.imu, i.orientation),
    command: commandFrameBytes(i.jointCount),
    heartbeat: SMALL_FRAME_BYTES,
    timeSyncReq: SMALL_FRAME_BYTES,
    timeSyncResp: TIME_SYNC_RESP_BYTES,
  };
  const capacity = lineBytesPerSecond(i.baudRate);
  return {
    capacity,
    usable: capacity === null ? null : capacity * LINE_HEADROOM,
    up: direction({ STATE: frames.state * i.stateRateHz, TIME_SYNC_RESP: frames.timeSyncResp * i.timeSyncHz }),
    down: direction({
      COMMAND: frames.command * i.commandRateHz,
      HEARTBEAT: frames.heartbeat * heartbeatRateHz(i.commandRateHz, i.heartbeatMs),
      TIME_SYNC_REQ: frames.timeSyncReq * i.timeSyncHz,
    }),
    frames,
  };
}

/**
 * The highest whole command rate (Hz) whose host → MCU load fits the usable capacity, at most
 * `ceilingHz`; Infinity-free: a line with no limit returns the ceiling. 0 when even the heartbeats
 * and time sync do not fit.
 */
export function maxCommandRateHz(i: LineLoadInput, ceilingHz: number): number {
  if (i.baudRate === null) return ceilingHz;
  for (let hz = Math.floor(ceilingHz); hz >= 1; hz--) {
    if (fitsDown({ ...i, commandRateHz: hz })) return hz;
  }
  return 0;
}

function fitsDown(i: LineLoadInput): boolean {
  const l = lineLoad(i);
  return l.usable === null || l.down.bytesPerSecond <= l.usable;
}

/** Keys of the daemon's configuration the numbers come from, for messages. */
export interface LineKeys {
  /** Where each value came from, e.g. "serial.baudRate" or "profile arm6-gripper serial.baudRate". */
  baudRate: string;
  stateRateHz: string;
  commandRateHz: string;
  /** The keys that change them, when not the ones above (a profile's value is overridden in the config). */
  set?: { baudRate?: string; stateRateHz?: string };
}

export type LineCheck =
  | { ok: true; load: LineLoad; commandRateHz: number; note: string | null }
  | { ok: false; load: LineLoad; problems: string[] };

const fmt = (n: number): string => String(Math.round(n));
function partsText(d: DirectionLoad): string {
  return Object.entries(d.parts).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v)}`).join(' + ');
}

/**
 * Checks the configured rates against the line. When the host → MCU direction does not fit and
 * `fitCommandRate` is set, lowers the command rate to the highest that fits (never below
 * MIN_FITTED_COMMAND_HZ) and says so in `note`. STATE never gets fitted: it is the MCU's rate, asked
 * for in CONFIG, and the operator chooses what to give up. Messages name the keys and their values.
 */
export function checkLine(i: LineLoadInput, keys: LineKeys, fitCommandRate: boolean): LineCheck {
  const load = lineLoad(i);
  if (load.usable === null) return { ok: true, load, commandRateHz: i.commandRateHz, note: null };
  const usable = load.usable;
  const cap = `${keys.baudRate}=${i.baudRate} carries ${fmt(load.capacity as number)} bytes/s each way, ${Math.round(LINE_HEADROOM * 100)} % of it (${fmt(usable)}) for periodic traffic`;
  const problems: string[] = [];
  if (load.up.bytesPerSecond > usable) {
    const maxState = Math.floor((usable - (load.up.parts['TIME_SYNC_RESP'] ?? 0)) / load.frames.state);
    problems.push(`MCU → host needs ${fmt(load.up.bytesPerSecond)} bytes/s (${partsText(load.up)}; STATE is ${load.frames.state} bytes at ${keys.stateRateHz}=${i.stateRateHz}) but ${cap}: `
      + `set ${keys.set?.stateRateHz ?? keys.stateRateHz} to ${Math.max(0, maxState)} or less, or raise ${keys.set?.baudRate ?? keys.baudRate}`);
  }
  let commandRateHz = i.commandRateHz;
  let note: string | null = null;
  if (load.down.bytesPerSecond > usable) {
    const fit = maxCommandRateHz(i, i.commandRateHz);
    const need = `host → MCU needs ${fmt(load.down.bytesPerSecond)} bytes/s (${partsText(load.down)}; COMMAND is ${load.frames.command} bytes at ${keys.commandRateHz}=${i.commandRateHz})`;
    if (fitCommandRate && fit >= MIN_FITTED_COMMAND_HZ) {
      commandRateHz = fit;
      note = `${need} but ${cap}: the command rate is lowered to ${fit} Hz to fit`;
    } else {
      const why = fitCommandRate ? ` (fitting the command rate would take it to ${fit} Hz, below ${MIN_FITTED_COMMAND_HZ} Hz)` : '';
      problems.push(`${need} but ${cap}: lower ${keys.commandRateHz} to ${fit} or less, or raise ${keys.set?.baudRate ?? keys.baudRate}${why}`);
    }
  }
  if (problems.length > 0) return { ok: false, load, problems };
  return { ok: true, load: commandRateHz === i.commandRateHz ? load : lineLoad({ ...i, commandRateHz }), commandRateHz, note };
}
