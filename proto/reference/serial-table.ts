/**
 * The message table of SPEC.md §3, from the codec's constants: type numbers, names and body sizes
 * cannot disagree with the implementation. Written between two marker comments in SPEC.md.
 */
import { MAX_JOINTS, MAX_LOG_TEXT, MsgType, msgTypeName } from '../wire/constants.js';
import {
  COMMAND_FIXED, COMMAND_PER_JOINT, CONFIG_FIXED, CONFIG_PER_JOINT, HELLO_SIZE, IMU_SIZE, ORIENTATION_SIZE, STATE_FIXED, STATE_PER_JOINT,
} from '../wire/messages.js';

export const TABLE_BEGIN = '<!-- generated: message table (npm run docs) -->';
export const TABLE_END = '<!-- end of generated message table -->';

const DIRECTION: Record<number, string> = {
  [MsgType.HELLO]: 'both', [MsgType.STATE]: 'MCU → host', [MsgType.COMMAND]: 'host → MCU', [MsgType.HEARTBEAT]: 'both',
  [MsgType.ESTOP]: 'both', [MsgType.RESET]: 'host → MCU', [MsgType.TIME_SYNC_REQ]: 'host → MCU', [MsgType.TIME_SYNC_RESP]: 'MCU → host',
  [MsgType.CONFIG]: 'host → MCU', [MsgType.ACK]: 'MCU → host', [MsgType.LOG]: 'MCU → host',
};

const BODY: Record<number, string> = {
  [MsgType.HELLO]: `${HELLO_SIZE}`,
  [MsgType.STATE]: `${STATE_FIXED} + ${STATE_PER_JOINT}·N (+${IMU_SIZE} IMU) (+${ORIENTATION_SIZE} orientation)`,
  [MsgType.COMMAND]: `${COMMAND_FIXED} + ${COMMAND_PER_JOINT}·N`,
  [MsgType.HEARTBEAT]: '4', [MsgType.ESTOP]: '4', [MsgType.RESET]: '8', [MsgType.TIME_SYNC_REQ]: '4', [MsgType.TIME_SYNC_RESP]: '12',
  [MsgType.CONFIG]: `${CONFIG_FIXED} + ${CONFIG_PER_JOINT}·N`,
  [MsgType.ACK]: '8',
  [MsgType.LOG]: `2 + text (≤ ${MAX_LOG_TEXT})`,
};

export function renderMessageTable(): string {
  const rows = Object.values(MsgType).map((t) => `| 0x${t.toString(16).toUpperCase().padStart(2, '0')} | ${msgTypeName(t)} | ${DIRECTION[t] ?? '?'} | ${BODY[t] ?? '?'} |`);
  return [TABLE_BEGIN, '| type | name | direction | body bytes |', '| --- | --- | --- | --- |', ...rows, '', `N is the joint count, at most ${MAX_JOINTS}.`, TABLE_END].join('\n');
}

/** SPEC.md with its message table replaced by the generated one; throws when the markers are missing. */
export function withMessageTable(spec: string): string {
  const a = spec.indexOf(TABLE_BEGIN), b = spec.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`SPEC.md lacks the markers ${TABLE_BEGIN} ... ${TABLE_END}`);
  return spec.slice(0, a) + renderMessageTable() + spec.slice(b + TABLE_END.length);
}
