/**
 * Message bodies of the serial protocol: typed shapes, body sizes, and allocation-free readers and
 * writers over a DataView. Layouts are normative in SPEC.md; all integers and floats little-endian.
 */
import { MAX_COMMAND_MODE, MAX_ESTOP_SOURCE, MAX_JOINTS, MAX_LOG_TEXT, MsgType, PROFILE_ID_SIZE, StateFlag } from './constants.js';

export interface HelloMsg {
  protoMajor: number;
  protoMinor: number;
  fwMajor: number;
  fwMinor: number;
  fwPatch: number;
  jointCount: number;
  /** Role.HOST or Role.MCU */
  role: number;
  capabilities: number;
  /** ASCII, at most 24 characters */
  profileId: string;
  deviceId: number;
}

/** Arrays hold MAX_JOINTS entries; only the first jointCount are meaningful. */
export interface StateMsg {
  jointCount: number;
  flags: number;
  status: number;
  faults: number;
  jointFaultMask: number;
  /**
   * SPEC 1.1 IMU sample counter (the 1.0 reserved u16): 0 means "no counter" (a 1.0 sender, or no
   * IMU); otherwise it counts the IMU's own samples from 1, skipping 0 when it wraps, so an
   * unchanged value says "no new sample since the last STATE".
   */
  imuSample: number;
  /** encoder counts */
  position: Int32Array;
  /** counts per second */
  velocity: Float32Array;
  /** motor current, A */
  current: Float32Array;
  /** m/s^2, sensor frame; valid when flags & StateFlag.IMU */
  accel: Float32Array;
  /** rad/s, sensor frame; valid when flags & StateFlag.IMU */
  gyro: Float32Array;
  /** w, x, y, z; valid when flags & StateFlag.ORIENTATION */
  quat: Float32Array;
}

export interface CommandMsg {
  jointCount: number;
  mode: number;
  /** target, encoder counts */
  position: Int32Array;
  /** target or feed-forward velocity, counts per second */
  velocity: Float32Array;
  /** feed-forward motor current, A */
  feedforward: Float32Array;
}

export interface HeartbeatMsg {
  hostState: number;
}
export interface EstopMsg {
  category: number;
  source: number;
  reason: number;
}
export interface ResetMsg {
  what: number;
  token: number;
}
export interface TimeSyncReqMsg {
  id: number;
}
export interface TimeSyncRespMsg {
  id: number;
  mcuRxUs: number;
  mcuTxUs: number;
}
export interface ConfigMsg {
  watchdogMs: number;
  stateRateHz: number;
  jointCount: number;
  posMin: Int32Array;
  posMax: Int32Array;
  velMax: Float32Array;
  currentMax: Float32Array;
}
export interface AckMsg {
  ackedType: number;
  result: number;
  ackedSeq: number;
  detail: number;
}
export interface LogMsg {
  level: number;
  text: string;
}

export interface MessageMap {
  [MsgType.HELLO]: HelloMsg;
  [MsgType.STATE]: StateMsg;
  [MsgType.COMMAND]: CommandMsg;
  [MsgType.HEARTBEAT]: HeartbeatMsg;
  [MsgType.ESTOP]: EstopMsg;
  [MsgType.RESET]: ResetMsg;
  [MsgType.TIME_SYNC_REQ]: TimeSyncReqMsg;
  [MsgType.TIME_SYNC_RESP]: TimeSyncRespMsg;
  [MsgType.CONFIG]: ConfigMsg;
  [MsgType.ACK]: AckMsg;
  [MsgType.LOG]: LogMsg;
}

export function newState(): StateMsg {
  return {
    jointCount: 0, flags: 0, status: 0, faults: 0, jointFaultMask: 0, imuSample: 0,
    position: new Int32Array(MAX_JOINTS), velocity: new Float32Array(MAX_JOINTS), current: new Float32Array(MAX_JOINTS),
    accel: new Float32Array(3), gyro: new Float32Array(3), quat: new Float32Array(4),
  };
}
export function newCommand(): CommandMsg {
  return {
    jointCount: 0, mode: 0,
    position: new Int32Array(MAX_JOINTS), velocity: new Float32Array(MAX_JOINTS), feedforward: new Float32Array(MAX_JOINTS),
  };
}
export function newConfig(): ConfigMsg {
  return {
    watchdogMs: 0, stateRateHz: 0, jointCount: 0,
    posMin: new Int32Array(MAX_JOINTS), posMax: new Int32Array(MAX_JOINTS),
    velMax: new Float32Array(MAX_JOINTS), currentMax: new Float32Array(MAX_JOINTS),
  };
}

/** A fresh, zeroed message of the given type, to decode into. */
export function newMessage<T extends MsgType>(type: T): MessageMap[T] {
  const make: { [K in MsgType]: () => MessageMap[K] } = {
    [MsgType.HELLO]: () => ({ protoMajor: 0, protoMinor: 0, fwMajor: 0, fwMinor: 0, fwPatch: 0, jointCount: 0, role: 0, capabilities: 0, profileId: '', deviceId: 0 }),
    [MsgType.STATE]: newState,
    [MsgType.COMMAND]: newCommand,
    [MsgType.HEARTBEAT]: () => ({ hostState: 0 }),
    [MsgType.ESTOP]: () => ({ category: 0, source: 0, reason: 0 }),
    [MsgType.RESET]: () => ({ what: 0, token: 0 }),
    [MsgType.TIME_SYNC_REQ]: () => ({ id: 0 }),
    [MsgType.TIME_SYNC_RESP]: () => ({ id: 0, mcuRxUs: 0, mcuTxUs: 0 }),
    [MsgType.CONFIG]: newConfig,
    [MsgType.ACK]: () => ({ ackedType: 0, result: 0, ackedSeq: 0, detail: 0 }),
    [MsgType.LOG]: () => ({ level: 0, text: '' }),
  };
  return make[type]();
}

export const HELLO_SIZE = 40;
export const STATE_FIXED = 12;
export const STATE_PER_JOINT = 12;
export const IMU_SIZE = 24;
export const ORIENTATION_SIZE = 16;
export const COMMAND_FIXED = 4;
export const COMMAND_PER_JOINT = 12;
export const CONFIG_FIXED = 8;
export const CONFIG_PER_JOINT = 16;

export function stateBodySize(jointCount: number, flags: number): number {
  return STATE_FIXED + STATE_PER_JOINT * jointCount + (flags & StateFlag.IMU ? IMU_SIZE : 0) + (flags & StateFlag.ORIENTATION ? ORIENTATION_SIZE : 0);
}

/** Body size of a message as it would be encoded. */
export function bodySize<T extends MsgType>(type: T, msg: MessageMap[T]): number {
  switch (type) {
    case MsgType.HELLO: return HELLO_SIZE;
    case MsgType.STATE: { const m = msg as StateMsg; return stateBodySize(m.jointCount, m.flags); }
    case MsgType.COMMAND: return COMMAND_FIXED + COMMAND_PER_JOINT * (msg as CommandMsg).jointCount;
    case MsgType.HEARTBEAT: return 4;
    case MsgType.ESTOP: return 4;
    case MsgType.RESET: return 8;
    case MsgType.TIME_SYNC_REQ: return 4;
    case MsgType.TIME_SYNC_RESP: return 12;
    case MsgType.CONFIG: return CONFIG_FIXED + CONFIG_PER_JOINT * (msg as ConfigMsg).jointCount;
    case MsgType.ACK: return 8;
    case MsgType.LOG: return 2 + Buffer.byteLength((msg as LogMsg).text, 'utf8');
    default: return -1;
  }
}

/** Fatal: a LOG whose text is not valid UTF-8 is refused rather than silently altered. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown by writers when a message must not be put on the wire; names the field and value. */
export class WireEncodeError extends Error {
  override readonly name = 'WireEncodeError';
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_JOINTS) throw new WireEncodeError(`${what}.jointCount=${n} is outside 0..${MAX_JOINTS}`);
}
function checkFinite(what: string, field: string, arr: Float32Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const v = arr[j] as number;
    if (!Number.isFinite(v)) throw new WireEncodeError(`${what}.${field}[${j}]=${v} is not a finite number`);
  }
}
function checkInt32(what: string, field: string, arr: Int32Array, n: number): void {
  // Int32Array already coerces on assignment; this guards plain arrays passed through a cast.
  for (let j = 0; j < n; j++) {
    const v = arr[j] as number;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new WireEncodeError(`${what}.${field}[${j}]=${v} is not a 32-bit integer`);
  }
}
function checkRange(what: string, field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new WireEncodeError(`${what}.${field}=${v} is outside 0..${max}`);
}

/**
 * Writes the body of `msg` at `off`; returns its length. Throws WireEncodeError for a message
 * that must not reach the wire (non-finite command or limit values, out-of-range enums).
 */
export function writeBody<T extends MsgType>(type: T, msg: MessageMap[T], v: DataView, bytes: Uint8Array, off: number): number {
  switch (type) {
    case MsgType.HELLO: {
      const m = msg as HelloMsg;
      checkCount('HELLO', m.jointCount);
      v.setUint8(off, m.protoMajor); v.setUint8(off + 1, m.protoMinor);
      v.setUint8(off + 2, m.fwMajor); v.setUint8(off + 3, m.fwMinor); v.setUint16(off + 4, m.fwPatch, true);
      v.setUint8(off + 6, m.jointCount); v.setUint8(off + 7, m.role);
      v.setUint32(off + 8, m.capabilities >>> 0, true);
      if (m.profileId.length > PROFILE_ID_SIZE || !/^[\x20-\x7e]*$/.test(m.profileId)) {
        throw new WireEncodeError(`HELLO.profileId=${JSON.stringify(m.profileId)} must be printable ASCII of at most ${PROFILE_ID_SIZE} characters`);
      }
      bytes.fill(0, off + 12, off + 12 + PROFILE_ID_SIZE);
      for (let i = 0; i < m.profileId.length; i++) bytes[off + 12 + i] = m.profileId.charCodeAt(i);
      v.setUint32(off + 36, m.deviceId >>> 0, true);
      return HELLO_SIZE;
    }
    case MsgType.STATE: {
      const m = msg as StateMsg;
      checkCount('STATE', m.jointCount);
      v.setUint8(off, m.jointCount); v.setUint8(off + 1, m.flags & 0x03);
      v.setUint16(off + 2, m.status, true); v.setUint16(off + 4, m.faults, true); v.setUint16(off + 6, m.imuSample & 0xffff, true);
      v.setUint32(off + 8, m.jointFaultMask >>> 0, true);
      let p = off + STATE_FIXED;
      for (let j = 0; j < m.jointCount; j++) {
        v.setInt32(p, m.position[j] as number, true);
        v.setFloat32(p + 4, m.velocity[j] as number, true);
        v.setFloat32(p + 8, m.current[j] as number, true);
        p += STATE_PER_JOINT;
      }
      if (m.flags & StateFlag.IMU) {
        for (let k = 0; k < 3; k++) v.setFloat32(p + 4 * k, m.accel[k] as number, true);
        for (let k = 0; k < 3; k++) v.setFloat32(p + 12 + 4 * k, m.gyro[k] as number, true);
        p += IMU_SIZE;
      }
      if (m.flags & StateFlag.ORIENTATION) {
        for (let k = 0; k < 4; k++) v.setFloat32(p + 4 * k, m.quat[k] as number, true);
        p += ORIENTATION_SIZE;
      }
      return p - off;
    }
    case MsgType.COMMAND: {
      const m = msg as CommandMsg;
      checkCount('COMMAND', m.jointCount);
      checkRange('COMMAND', 'mode', m.mode, MAX_COMMAND_MODE);
      checkInt32('COMMAND', 'position', m.position, m.jointCount);
      checkFinite('COMMAND', 'velocity', m.velocity, m.jointCount);
      checkFinite('COMMAND', 'feedforward', m.feedforward, m.jointCount);
      v.setUint8(off, m.jointCount); v.setUint8(off + 1, m.mode); v.setUint16(off + 2, 0, true);
      let p = off + COMMAND_FIXED;
      for (let j = 0; j < m.jointCount; j++) {
        v.setInt32(p, m.position[j] as number, true);
        v.setFloat32(p + 4, m.velocity[j] as number, true);
        v.setFloat32(p + 8, m.feedforward[j] as number, true);
        p += COMMAND_PER_JOINT;
      }
      return p - off;
    }
    case MsgType.HEARTBEAT: {
      const m = msg as HeartbeatMsg;
      v.setUint8(off, m.hostState); v.setUint8(off + 1, 0); v.setUint16(off + 2, 0, true);
      return 4;
    }
    case MsgType.ESTOP: {
      const m = msg as EstopMsg;
      checkRange('ESTOP', 'category', m.category, 2);
      checkRange('ESTOP', 'source', m.source, MAX_ESTOP_SOURCE);
      v.setUint8(off, m.category); v.setUint8(off + 1, m.source); v.setUint16(off + 2, m.reason, true);
      return 4;
    }
    case MsgType.RESET: {
      const m = msg as ResetMsg;
      checkRange('RESET', 'what', m.what, 7);
      v.setUint8(off, m.what); v.setUint8(off + 1, 0); v.setUint16(off + 2, 0, true);
      v.setUint32(off + 4, m.token >>> 0, true);
      return 8;
    }
    case MsgType.TIME_SYNC_REQ:
      v.setUint32(off, (msg as TimeSyncReqMsg).id >>> 0, true);
      return 4;
    case MsgType.TIME_SYNC_RESP: {
      const m = msg as TimeSyncRespMsg;
      v.setUint32(off, m.id >>> 0, true); v.setUint32(off + 4, m.mcuRxUs >>> 0, true); v.setUint32(off + 8, m.mcuTxUs >>> 0, true);
      return 12;
    }
    case MsgType.CONFIG: {
      const m = msg as ConfigMsg;
      checkCount('CONFIG', m.jointCount);
      checkRange('CONFIG', 'watchdogMs', m.watchdogMs, 0xffff);
      checkRange('CONFIG', 'stateRateHz', m.stateRateHz, 0xffff);
      checkInt32('CONFIG', 'posMin', m.posMin, m.jointCount);
      checkInt32('CONFIG', 'posMax', m.posMax, m.jointCount);
      checkFinite('CONFIG', 'velMax', m.velMax, m.jointCount);
      checkFinite('CONFIG', 'currentMax', m.currentMax, m.jointCount);
      for (let j = 0; j < m.jointCount; j++) {
        if ((m.posMin[j] as number) > (m.posMax[j] as number)) throw new WireEncodeError(`CONFIG.posMin[${j}]=${m.posMin[j]} is above posMax[${j}]=${m.posMax[j]}`);
        if ((m.velMax[j] as number) < 0) throw new WireEncodeError(`CONFIG.velMax[${j}]=${m.velMax[j]} is negative`);
        if ((m.currentMax[j] as number) < 0) throw new WireEncodeError(`CONFIG.currentMax[${j}]=${m.currentMax[j]} is negative`);
      }
      v.setUint16(off, m.watchdogMs, true); v.setUint16(off + 2, m.stateRateHz, true);
      v.setUint8(off + 4, m.jointCount); v.setUint8(off + 5, 0); v.setUint16(off + 6, 0, true);
      let p = off + CONFIG_FIXED;
      for (let j = 0; j < m.jointCount; j++) {
        v.setInt32(p, m.posMin[j] as number, true); v.setInt32(p + 4, m.posMax[j] as number, true);
        v.setFloat32(p + 8, m.velMax[j] as number, true); v.setFloat32(p + 12, m.currentMax[j] as number, true);
        p += CONFIG_PER_JOINT;
      }
      return p - off;
    }
    case MsgType.ACK: {
      const m = msg as AckMsg;
      v.setUint8(off, m.ackedType); v.setUint8(off + 1, m.result); v.setUint16(off + 2, m.ackedSeq, true);
      v.setUint32(off + 4, m.detail >>> 0, true);
      return 8;
    }
    case MsgType.LOG: {
      const m = msg as LogMsg;
      const text = Buffer.from(m.text, 'utf8');
      if (text.length > MAX_LOG_TEXT) throw new WireEncodeError(`LOG.text is ${text.length} bytes, at most ${MAX_LOG_TEXT} allowed`);
      v.setUint8(off, m.level); v.setUint8(off + 1, 0);
      bytes.set(text, off + 2);
      return 2 + text.length;
    }
    default:
      throw new WireEncodeError(`message type ${String(type)} has no writer`);
  }
}

/**
 * Reads a body of `len` bytes at `off` into `out`. Returns null when the body is well formed,
 * otherwise a description of what is wrong, naming the offending value. Allocation-free for
 * STATE, COMMAND and the fixed-size messages when the body is well formed.
 */
export function readBody<T extends MsgType>(type: T, v: DataView, bytes: Uint8Array, off: number, len: number, out: MessageMap[T]): string | null {
  switch (type) {
    case MsgType.HELLO: {
      if (len !== HELLO_SIZE) return `HELLO body is ${len} bytes, expected ${HELLO_SIZE}`;
      const m = out as HelloMsg;
      m.protoMajor = v.getUint8(off); m.protoMinor = v.getUint8(off + 1);
      m.fwMajor = v.getUint8(off + 2); m.fwMinor = v.getUint8(off + 3); m.fwPatch = v.getUint16(off + 4, true);
      m.jointCount = v.getUint8(off + 6); m.role = v.getUint8(off + 7);
      m.capabilities = v.getUint32(off + 8, true);
      let end = off + 12;
      while (end < off + 12 + PROFILE_ID_SIZE && bytes[end] !== 0) end++;
      for (let i = off + 12; i < end; i++) {
        const c = bytes[i] as number;
        if (c < 0x20 || c > 0x7e) return `HELLO.profileId has a non-printable byte 0x${c.toString(16)}`;
      }
      m.profileId = String.fromCharCode(...bytes.subarray(off + 12, end));
      m.deviceId = v.getUint32(off + 36, true);
      if (m.jointCount > MAX_JOINTS) return `HELLO.jointCount=${m.jointCount} exceeds ${MAX_JOINTS}`;
      return null;
    }
    case MsgType.STATE: {
      if (len < STATE_FIXED) return `STATE body is ${len} bytes, shorter than ${STATE_FIXED}`;
      const m = out as StateMsg;
      const n = v.getUint8(off);
      const flags = v.getUint8(off + 1);
      if (n > MAX_JOINTS) return `STATE.jointCount=${n} exceeds ${MAX_JOINTS}`;
      if (flags & ~0x03) return `STATE.flags=0x${flags.toString(16)} has unknown bits`;
      const expected = stateBodySize(n, flags);
      if (len !== expected) return `STATE body is ${len} bytes, expected ${expected} for jointCount=${n} flags=0x${flags.toString(16)}`;
      m.jointCount = n; m.flags = flags;
      m.status = v.getUint16(off + 2, true); m.faults = v.getUint16(off + 4, true);
      m.imuSample = v.getUint16(off + 6, true);
      m.jointFaultMask = v.getUint32(off + 8, true);
      let p = off + STATE_FIXED;
      for (let j = 0; j < n; j++) {
        m.position[j] = v.getInt32(p, true);
        m.velocity[j] = v.getFloat32(p + 4, true);
        m.current[j] = v.getFloat32(p + 8, true);
        p += STATE_PER_JOINT;
      }
      if (flags & StateFlag.IMU) {
        for (let k = 0; k < 3; k++) m.accel[k] = v.getFloat32(p + 4 * k, true);
        for (let k = 0; k < 3; k++) m.gyro[k] = v.getFloat32(p + 12 + 4 * k, true);
        p += IMU_SIZE;
      }
      if (flags & StateFlag.ORIENTATION) {
        for (let k = 0; k < 4; k++) m.quat[k] = v.getFloat32(p + 4 * k, true);
      }
      return null;
    }
    case MsgType.COMMAND: {
      if (len < COMMAND_FIXED) return `COMMAND body is ${len} bytes, shorter than ${COMMAND_FIXED}`;
      const m = out as CommandMsg;
      const n = v.getUint8(off);
      const mode = v.getUint8(off + 1);
      if (n > MAX_JOINTS) return `COMMAND.jointCount=${n} exceeds ${MAX_JOINTS}`;
      if (mode > MAX_COMMAND_MODE) return `COMMAND.mode=${mode} is outside 0..${MAX_COMMAND_MODE}`;
      const expected = COMMAND_FIXED + COMMAND_PER_JOINT * n;
      if (len !== expected) return `COMMAND body is ${len} bytes, expected ${expected} for jointCount=${n}`;
      let p = off + COMMAND_FIXED;
      for (let j = 0; j < n; j++) {
        const pos = v.getInt32(p, true), vel = v.getFloat32(p + 4, true), ff = v.getFloat32(p + 8, true);
        if (!Number.isFinite(vel)) return `COMMAND.velocity[${j}]=${vel} is not a finite number`;
        if (!Number.isFinite(ff)) return `COMMAND.feedforward[${j}]=${ff} is not a finite number`;
        m.position[j] = pos; m.velocity[j] = vel; m.feedforward[j] = ff;
        p += COMMAND_PER_JOINT;
      }
      m.jointCount = n; m.mode = mode;
      return null;
    }
    case MsgType.HEARTBEAT:
      if (len !== 4) return `HEARTBEAT body is ${len} bytes, expected 4`;
      (out as HeartbeatMsg).hostState = v.getUint8(off);
      return null;
    case MsgType.ESTOP: {
      if (len !== 4) return `ESTOP body is ${len} bytes, expected 4`;
      const m = out as EstopMsg;
      const category = v.getUint8(off), source = v.getUint8(off + 1);
      // An out-of-range category still means "stop": it is reported, and the receiver applies category 0.
      m.category = category; m.source = source; m.reason = v.getUint16(off + 2, true);
      if (category > 2) return `ESTOP.category=${category} is outside 0..2`;
      if (source > MAX_ESTOP_SOURCE) return `ESTOP.source=${source} is outside 0..${MAX_ESTOP_SOURCE}`;
      return null;
    }
    case MsgType.RESET: {
      if (len !== 8) return `RESET body is ${len} bytes, expected 8`;
      const m = out as ResetMsg;
      const what = v.getUint8(off);
      if (what > 7) return `RESET.what=0x${what.toString(16)} has unknown bits`;
      m.what = what; m.token = v.getUint32(off + 4, true);
      return null;
    }
    case MsgType.TIME_SYNC_REQ:
      if (len !== 4) return `TIME_SYNC_REQ body is ${len} bytes, expected 4`;
      (out as TimeSyncReqMsg).id = v.getUint32(off, true);
      return null;
    case MsgType.TIME_SYNC_RESP: {
      if (len !== 12) return `TIME_SYNC_RESP body is ${len} bytes, expected 12`;
      const m = out as TimeSyncRespMsg;
      m.id = v.getUint32(off, true); m.mcuRxUs = v.getUint32(off + 4, true); m.mcuTxUs = v.getUint32(off + 8, true);
      return null;
    }
    case MsgType.CONFIG: {
      if (len < CONFIG_FIXED) return `CONFIG body is ${len} bytes, shorter than ${CONFIG_FIXED}`;
      const m = out as ConfigMsg;
      const n = v.getUint8(off + 4);
      if (n > MAX_JOINTS) return `CONFIG.jointCount=${n} exceeds ${MAX_JOINTS}`;
      const expected = CONFIG_FIXED + CONFIG_PER_JOINT * n;
      if (len !== expected) return `CONFIG body is ${len} bytes, expected ${expected} for jointCount=${n}`;
      let p = off + CONFIG_FIXED;
      for (let j = 0; j < n; j++) {
        const lo = v.getInt32(p, true), hi = v.getInt32(p + 4, true);
        const vm = v.getFloat32(p + 8, true), cm = v.getFloat32(p + 12, true);
        if (lo > hi) return `CONFIG.posMin[${j}]=${lo} is above posMax[${j}]=${hi}`;
        if (!(vm >= 0) || !Number.isFinite(vm)) return `CONFIG.velMax[${j}]=${vm} must be a finite number >= 0`;
        if (!(cm >= 0) || !Number.isFinite(cm)) return `CONFIG.currentMax[${j}]=${cm} must be a finite number >= 0`;
        m.posMin[j] = lo; m.posMax[j] = hi; m.velMax[j] = vm; m.currentMax[j] = cm;
        p += CONFIG_PER_JOINT;
      }
      m.watchdogMs = v.getUint16(off, true); m.stateRateHz = v.getUint16(off + 2, true); m.jointCount = n;
      return null;
    }
    case MsgType.ACK: {
      if (len !== 8) return `ACK body is ${len} bytes, expected 8`;
      const m = out as AckMsg;
      m.ackedType = v.getUint8(off); m.result = v.getUint8(off + 1); m.ackedSeq = v.getUint16(off + 2, true); m.detail = v.getUint32(off + 4, true);
      return null;
    }
    case MsgType.LOG: {
      if (len < 2 || len > 2 + MAX_LOG_TEXT) return `LOG body is ${len} bytes, expected 2..${2 + MAX_LOG_TEXT}`;
      const m = out as LogMsg;
      try {
        m.text = UTF8.decode(bytes.subarray(off + 2, off + len));
      } catch {
        return `LOG text is not valid UTF-8 (${len - 2} bytes)`;
      }
      m.level = v.getUint8(off);
      return null;
    }
    default:
      return `message type ${String(type)} has no reader`;
  }
}
