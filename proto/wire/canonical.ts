/**
 * Canonical one-line text of a decoded frame, shared with the C shim's conformance runner so the two
 * implementations can be compared field by field. Floats are written as their IEEE-754 bit patterns
 * (8 hex digits) so no decimal formatting differences can hide or invent a mismatch.
 */
import { MsgType, msgTypeName, StateFlag } from './constants.js';
import type { MessageMap, StateMsg, CommandMsg, ConfigMsg } from './messages.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function fbits(x: number): string {
  f32[0] = x;
  return (u32[0] as number).toString(16).padStart(8, '0');
}
function ints(a: Int32Array, n: number): string {
  return Array.from(a.subarray(0, n)).join(',');
}
function floats(a: Float32Array, n: number): string {
  return Array.from(a.subarray(0, n), fbits).join(',');
}

export function canonicalText<T extends MsgType>(type: T, seq: number, timeUs: number, msg: MessageMap[T]): string {
  const head = `${msgTypeName(type)} seq=${seq} t=${timeUs >>> 0}`;
  switch (type) {
    case MsgType.HELLO: {
      const m = msg as MessageMap[typeof MsgType.HELLO];
      return `${head} proto=${m.protoMajor}.${m.protoMinor} fw=${m.fwMajor}.${m.fwMinor}.${m.fwPatch} joints=${m.jointCount} role=${m.role} caps=${m.capabilities >>> 0} profile=${m.profileId} device=${m.deviceId >>> 0}`;
    }
    case MsgType.STATE: {
      const m = msg as StateMsg;
      let s = `${head} joints=${m.jointCount} flags=${m.flags} status=${m.status} faults=${m.faults} jfm=${m.jointFaultMask >>> 0} imu_sample=${m.imuSample} pos=${ints(m.position, m.jointCount)} vel=${floats(m.velocity, m.jointCount)} cur=${floats(m.current, m.jointCount)}`;
      if (m.flags & StateFlag.IMU) s += ` acc=${floats(m.accel, 3)} gyr=${floats(m.gyro, 3)}`;
      if (m.flags & StateFlag.ORIENTATION) s += ` quat=${floats(m.quat, 4)}`;
      return s;
    }
    case MsgType.COMMAND: {
      const m = msg as CommandMsg;
      return `${head} joints=${m.jointCount} mode=${m.mode} pos=${ints(m.position, m.jointCount)} vel=${floats(m.velocity, m.jointCount)} ff=${floats(m.feedforward, m.jointCount)}`;
    }
    case MsgType.HEARTBEAT:
      return `${head} host_state=${(msg as MessageMap[typeof MsgType.HEARTBEAT]).hostState}`;
    case MsgType.ESTOP: {
      const m = msg as MessageMap[typeof MsgType.ESTOP];
      return `${head} category=${m.category} source=${m.source} reason=${m.reason}`;
    }
    case MsgType.RESET: {
      const m = msg as MessageMap[typeof MsgType.RESET];
      return `${head} what=${m.what} token=${m.token >>> 0}`;
    }
    case MsgType.TIME_SYNC_REQ:
      return `${head} id=${(msg as MessageMap[typeof MsgType.TIME_SYNC_REQ]).id >>> 0}`;
    case MsgType.TIME_SYNC_RESP: {
      const m = msg as MessageMap[typeof MsgType.TIME_SYNC_RESP];
      return `${head} id=${m.id >>> 0} rx=${m.mcuRxUs >>> 0} tx=${m.mcuTxUs >>> 0}`;
    }
    case MsgType.CONFIG: {
      const m = msg as ConfigMsg;
      return `${head} watchdog_ms=${m.watchdogMs} rate_hz=${m.stateRateHz} joints=${m.jointCount} min=${ints(m.posMin, m.jointCount)} max=${ints(m.posMax, m.jointCount)} vmax=${floats(m.velMax, m.jointCount)} imax=${floats(m.currentMax, m.jointCount)}`;
    }
    case MsgType.ACK: {
      const m = msg as MessageMap[typeof MsgType.ACK];
      return `${head} acked_type=${m.ackedType} result=${m.result} acked_seq=${m.ackedSeq} detail=${m.detail >>> 0}`;
    }
    case MsgType.LOG: {
      const m = msg as MessageMap[typeof MsgType.LOG];
      return `${head} level=${m.level} text_hex=${Buffer.from(m.text, 'utf8').toString('hex')}`;
    }
    default:
      return head;
  }
}
