/** Wire constants of the Spinal serial protocol. SPEC.md is normative; these mirror it. */

export const PROTOCOL_MAJOR = 1;
/** 1.1 adds STATE.imu_sample (the 1.0 reserved u16, which 1.0 peers send as 0 and ignore). */
export const PROTOCOL_MINOR = 1;

/** version(1) type(1) seq(2) time_us(4) */
export const HEADER_SIZE = 8;
export const CRC_SIZE = 4;
export const MIN_PACKET = HEADER_SIZE + CRC_SIZE;
/** Largest unstuffed packet (header + body + CRC) either side accepts. */
export const MAX_PACKET = 1024;
export const MAX_BODY = MAX_PACKET - MIN_PACKET;
export const MAX_JOINTS = 32;
export const MAX_LOG_TEXT = 200;
export const PROFILE_ID_SIZE = 24;

export const MsgType = {
  HELLO: 0x01,
  STATE: 0x02,
  COMMAND: 0x03,
  HEARTBEAT: 0x04,
  ESTOP: 0x05,
  RESET: 0x06,
  TIME_SYNC_REQ: 0x07,
  TIME_SYNC_RESP: 0x08,
  CONFIG: 0x09,
  ACK: 0x0a,
  LOG: 0x0b,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MsgType).map(([k, v]) => [v, k]));
export function msgTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(0x${type.toString(16).padStart(2, '0')})`;
}
export function isKnownMsgType(type: number): type is MsgType {
  return type >= MsgType.HELLO && type <= MsgType.LOG;
}

export const Role = { HOST: 0, MCU: 1 } as const;

/** HELLO.capabilities bits */
export const Capability = {
  IMU: 1 << 0,
  FUSED_ORIENTATION: 1 << 1,
  CURRENT_SENSE: 1 << 2,
  VELOCITY_MODE: 1 << 3,
  CURRENT_MODE: 1 << 4,
  HARDWARE_ESTOP: 1 << 5,
  TIME_SYNC: 1 << 6,
} as const;

/** STATE.flags bits: which optional blocks follow the joints. */
export const StateFlag = { IMU: 1 << 0, ORIENTATION: 1 << 1 } as const;

/** STATE.status bits */
export const Status = {
  ESTOP_LATCHED: 1 << 0,
  WATCHDOG_TRIPPED: 1 << 1,
  MOTORS_ENABLED: 1 << 2,
  CONFIGURED: 1 << 3,
  STOPPING: 1 << 4,
  HOST_SEEN: 1 << 5,
} as const;

/** STATE.faults bits; joint_fault_mask says which joints. */
export const Fault = {
  MOTOR: 1 << 0,
  ENCODER: 1 << 1,
  OVERCURRENT: 1 << 2,
  OVERTEMP: 1 << 3,
  UNDERVOLTAGE: 1 << 4,
  IMU: 1 << 5,
  LIMIT: 1 << 6,
} as const;

/** COMMAND.mode */
export const CommandMode = { DISABLE: 0, HOLD: 1, POSITION: 2, VELOCITY: 3, CURRENT: 4 } as const;
export const MAX_COMMAND_MODE = 4;

/** Stop categories of IEC 60204-1. */
export const StopCategory = {
  /** Immediate removal of motor power. */
  CAT0: 0,
  /** Controlled stop, then motor power removed. */
  CAT1: 1,
  /** Controlled stop, motors stay powered and hold position. */
  CAT2: 2,
} as const;

export const EstopSource = { HOST: 0, MCU_BUTTON: 1, MCU_WATCHDOG: 2, MCU_FAULT: 3, REMOTE: 4 } as const;
export const MAX_ESTOP_SOURCE = 4;

/**
 * ESTOP.reason codes, one table for both directions. Below 0x10 the MCU's own reports (and 2 also
 * for a malformed remote e-stop message, the host-side twin of a malformed ESTOP frame); from 0x10
 * the host's stop causes. The receiving side only logs them.
 */
export const EstopReason = {
  /** From the host: no fault, the host is shutting down (SIGTERM) or asked for a plain stop. */
  NONE: 0, WATCHDOG: 1, MALFORMED_ESTOP: 2, BUTTON: 3, FAULT: 4,
  REMOTE: 0x10, FLEET: 0x11, FALL: 0x13, DEADMAN: 0x14, MCU_FAULT: 0x15, CONTROL_FAILED: 0x16,
  LINK_LOST: 0x17, RELATCH: 0x18, MQTT_LINK: 0x19,
} as const;

/** RESET.what bits */
export const ResetWhat = { ESTOP: 1 << 0, FAULTS: 1 << 1, WATCHDOG: 1 << 2 } as const;

/** ACK.result */
export const AckResult = { OK: 0, REFUSED_UNSAFE: 1, BAD_VALUE: 2, UNSUPPORTED: 3 } as const;

export const LogLevel = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 } as const;
