/** SPEC.md §5 is recomputed from the codec: the document and the implementation cannot drift apart. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRC_SIZE, HEADER_SIZE, MsgType, StateFlag } from './constants.js';
import { FrameEncoder } from './frame-encoder.js';
import { newCommand, newState, type MessageMap } from './messages.js';
import type { MsgType as MsgTypeT } from './constants.js';

const spec = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'SPEC.md'), 'utf8');

function state(n: number, flags: number): MessageMap[typeof MsgType.STATE] {
  const s = newState();
  s.jointCount = n; s.flags = flags;
  s.position.fill(0x01010101); s.velocity.fill(1); s.current.fill(1); s.accel.fill(1); s.gyro.fill(1); s.quat.fill(1);
  return s;
}
function command(n: number): MessageMap[typeof MsgType.COMMAND] {
  const c = newCommand();
  c.jointCount = n; c.mode = 2; c.position.fill(0x01010101); c.velocity.fill(1); c.feedforward.fill(1);
  return c;
}

const rows: [string, MsgTypeT, MessageMap[MsgTypeT]][] = [
  ['STATE, arm (7 joints, IMU + orientation)', MsgType.STATE, state(7, StateFlag.IMU | StateFlag.ORIENTATION)],
  ['STATE, quadruped (12 joints, IMU)', MsgType.STATE, state(12, StateFlag.IMU)],
  ['STATE, quadruped (12 joints, IMU + orientation)', MsgType.STATE, state(12, StateFlag.IMU | StateFlag.ORIENTATION)],
  ['COMMAND, arm (7 joints)', MsgType.COMMAND, command(7)],
  ['COMMAND, quadruped (12 joints)', MsgType.COMMAND, command(12)],
  ['HEARTBEAT', MsgType.HEARTBEAT, { hostState: 1 }],
  ['ESTOP', MsgType.ESTOP, { category: 0, source: 0, reason: 0 }],
  ['TIME_SYNC_REQ', MsgType.TIME_SYNC_REQ, { id: 1 }],
  ['TIME_SYNC_RESP', MsgType.TIME_SYNC_RESP, { id: 1, mcuRxUs: 1, mcuTxUs: 1 }],
  ['HELLO', MsgType.HELLO, { protoMajor: 1, protoMinor: 0, fwMajor: 1, fwMinor: 1, fwPatch: 1, jointCount: 7, role: 1, capabilities: 1, profileId: 'arm6-gripper', deviceId: 1 }],
];

describe('SPEC.md size and rate table', () => {
  it.each(rows)('%s row matches the codec', (name, type, msg) => {
    const wire = new FrameEncoder().encode(type, msg, 1).length;
    const packet = wire - 2; // packets under 254 bytes: one COBS code byte and the delimiter
    const body = packet - HEADER_SIZE - CRC_SIZE;
    const rates = [115200, 1e6, 2e6, 4e6].map((baud) => Math.floor(baud / 10 / wire));
    const line = spec.split('\n').find((l) => l.startsWith(`| ${name} |`));
    expect(line, `row "${name}" in SPEC.md`).toBeDefined();
    const cells = (line as string).split('|').slice(2, -1).map((c) => Number(c.trim()));
    expect(cells).toEqual([body, packet, wire, ...rates]);
  });
});
