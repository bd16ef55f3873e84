/**
 * The conformance vectors: byte streams and the events every implementation must report for them.
 * `npm run vectors` writes them to this folder; a test fails when the files drift from this code.
 */
import { cobsEncode } from '../cobs.js';
import { Capability, CommandMode, EstopSource, LogLevel, MsgType, PROTOCOL_MAJOR, PROTOCOL_MINOR, ResetWhat, Role, StateFlag, Status } from '../constants.js';
import { crc32c } from '../crc32c.js';
import { FrameEncoder } from '../frame-encoder.js';
import { newCommand, newConfig, newState, type MessageMap } from '../messages.js';
import { streamEvents } from '../stream-events.js';
import type { MsgType as MsgTypeT } from '../constants.js';

export interface Vector {
  name: string;
  /**
   * valid: every implementation must also re-encode each frame to exactly these bytes.
   * accepted: decodes without error to these events, but is not the canonical encoding (SPEC §2:
   * a receiver accepts it, a sender never produces it), so it is not re-encoded.
   * invalid: reports at least one error.
   */
  kind: 'valid' | 'accepted' | 'invalid';
  bytes: Uint8Array;
  events: string[];
}

function frame<T extends MsgTypeT>(type: T, msg: MessageMap[T], seq: number, timeUs: number): Uint8Array {
  return new FrameEncoder({ firstSeq: seq }).encode(type, msg, timeUs);
}

/** A frame with arbitrary header and body bytes, correctly stuffed and checksummed. */
function rawFrame(version: number, type: number, seq: number, timeUs: number, body: number[]): Uint8Array {
  const p = new Uint8Array(8 + body.length + 4);
  const v = new DataView(p.buffer);
  p[0] = version; p[1] = type; v.setUint16(2, seq, true); v.setUint32(4, timeUs >>> 0, true);
  p.set(body, 8);
  v.setUint32(8 + body.length, crc32c(p, 0, 8 + body.length), true);
  const out = new Uint8Array(p.length + 8);
  const n = cobsEncode(p, 0, p.length, out, 0);
  out[n] = 0;
  return out.subarray(0, n + 1);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function armState(): MessageMap[typeof MsgType.STATE] {
  const s = newState();
  s.jointCount = 7;
  s.flags = StateFlag.IMU | StateFlag.ORIENTATION;
  s.status = Status.MOTORS_ENABLED | Status.CONFIGURED | Status.HOST_SEEN;
  const pos = [0, 1024, -2048, 65535, -1, 123456, 700];
  pos.forEach((p, j) => { s.position[j] = p; s.velocity[j] = (j - 3) * 12.5; s.current[j] = 0.25 * j; });
  s.accel.set([0.05, -0.02, 9.81]); s.gyro.set([0.001, -0.002, 0.0005]); s.quat.set([1, 0, 0, 0]);
  return s;
}

function quadState(): MessageMap[typeof MsgType.STATE] {
  const s = newState();
  s.jointCount = 12;
  s.flags = StateFlag.IMU;
  s.status = Status.CONFIGURED | Status.ESTOP_LATCHED;
  s.faults = 0x01;
  s.jointFaultMask = 1 << 11;
  for (let j = 0; j < 12; j++) { s.position[j] = j * 4096 - 20000; s.velocity[j] = Math.fround(j * 0.1); s.current[j] = Math.fround(-j / 3); }
  s.accel.set([0, 0, -9.80665]); s.gyro.set([0.1, 0.2, 0.3]);
  return s;
}

/** The STATE of the COBS vectors: no zero byte after its flags, so the packet ends in a run of
 * exactly 254 non-zero bytes (a full COBS block that closes the packet). */
function fullRunState(): { bytes: Uint8Array; packet: Uint8Array } {
  const s = newState();
  s.jointCount = 20; s.flags = 0; s.status = 0x0129; s.faults = 0x0101; s.imuSample = 0x0203; s.jointFaultMask = 0x01010101;
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let j = 0; j < 20; j++) {
    s.position[j] = 0x01020304 + j;
    bits[0] = 0x41414141 + j; s.velocity[j] = f[0] as number;
    bits[0] = 0x3f3f3f3f + j; s.current[j] = f[0] as number;
  }
  // The CRC must hold no zero byte either: the first time_us that gives one.
  for (let t = 0x01010101; ; t++) {
    const bytes = frame(MsgType.STATE, s, 0x0101, t);
    const packet = unstuff(bytes);
    if (packet.subarray(10).every((b) => b !== 0)) return { bytes, packet };
  }
}

function unstuff(stuffed: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < stuffed.length && stuffed[i] !== 0) {
    const code = stuffed[i++] as number;
    for (let k = 1; k < code; k++) out.push(stuffed[i++] as number);
    if (code !== 0xff && stuffed[i] !== 0) out.push(0);
  }
  return Uint8Array.from(out);
}

/** Writes a frame's stuffed bytes with its CRC bits flipped (the segment stays well stuffed). */
function withBadCrc(version: number, type: number, body: number[]): Uint8Array {
  const good = rawFrame(version, type, 3, 3, body);
  const p = unstuff(good);
  p[p.length - 1] = (p[p.length - 1] as number) ^ 0x55;
  const out = new Uint8Array(p.length + 8);
  const n = cobsEncode(p, 0, p.length, out, 0);
  out[n] = 0;
  return out.subarray(0, n + 1);
}

function build(name: string, kind: Vector['kind'], bytes: Uint8Array): Vector {
  return { name, kind, bytes, events: streamEvents(bytes) };
}

export function buildVectors(): Vector[] {
  const hello = { protoMajor: PROTOCOL_MAJOR, protoMinor: PROTOCOL_MINOR, fwMajor: 1, fwMinor: 4, fwPatch: 513, jointCount: 7, role: Role.MCU, capabilities: Capability.IMU | Capability.FUSED_ORIENTATION | Capability.CURRENT_SENSE | Capability.TIME_SYNC, profileId: 'arm6-gripper', deviceId: 0xdeadbeef };
  const hostHello = { ...hello, fwMajor: 0, fwMinor: 1, fwPatch: 0, role: Role.HOST, capabilities: 0, profileId: 'arm6-gripper', deviceId: 0 };
  const cmd = newCommand();
  cmd.jointCount = 7; cmd.mode = CommandMode.POSITION;
  for (let j = 0; j < 7; j++) { cmd.position[j] = 1000 * j - 3000; cmd.velocity[j] = Math.fround(j * 1.5); cmd.feedforward[j] = Math.fround(j * -0.01); }
  const zeros = newState();
  zeros.jointCount = 3; zeros.flags = StateFlag.IMU;
  const config = newConfig();
  config.watchdogMs = 100; config.stateRateHz = 1000; config.jointCount = 7;
  for (let j = 0; j < 7; j++) { config.posMin[j] = -100000 - j; config.posMax[j] = 100000 + j; config.velMax[j] = 50000; config.currentMax[j] = 8.5; }
  const bigConfig = newConfig();
  bigConfig.watchdogMs = 250; bigConfig.stateRateHz = 500; bigConfig.jointCount = 32;
  for (let j = 0; j < 32; j++) { bigConfig.posMin[j] = -(j + 1) * 1000; bigConfig.posMax[j] = (j + 1) * 1000; bigConfig.velMax[j] = j * 10; bigConfig.currentMax[j] = 1 + j / 4; }

  const stateFrame = frame(MsgType.STATE, armState(), 7, 1_000_000);
  // A copy: Buffer#slice would return a view and the flip would corrupt stateFrame too.
  const flipped = Uint8Array.from(stateFrame);
  flipped[20] = (flipped[20] as number) ^ 0x10;
  const cobsBad = Uint8Array.from([0x09, 0x01, 0x02, 0x00]);
  const estopBody = [0, EstopSource.HOST, 0, 0];
  const longGarbage = new Uint8Array(2000).fill(0x5a);
  const fullRun = fullRunState();
  // The same packet with the last block's trailing code byte (0x01) left out, as some encoders do.
  const noTrailing = concat(fullRun.bytes.subarray(0, fullRun.bytes.length - 2), Uint8Array.of(0));
  const imuState = armState();
  imuState.imuSample = 65535;
  const orientationOnly = armState();
  orientationOnly.flags = StateFlag.ORIENTATION;
  orientationOnly.imuSample = 0;
  const hello10 = { ...hello, protoMinor: 0 };
  const hbState = newState();
  hbState.jointCount = 1; hbState.status = Status.CONFIGURED | Status.HOST_SEEN;

  return [
    build('hello_mcu', 'valid', frame(MsgType.HELLO, hello, 0, 12)),
    build('hello_host', 'valid', frame(MsgType.HELLO, hostHello, 0, 4_000_000_000)),
    build('state_arm7_imu_orientation', 'valid', stateFrame),
    build('state_quad12_imu_fault', 'valid', frame(MsgType.STATE, quadState(), 65535, 0xffffffff)),
    build('state_zeros', 'valid', frame(MsgType.STATE, zeros, 0, 0)),
    build('command_position', 'valid', frame(MsgType.COMMAND, cmd, 42, 2_000_000)),
    build('command_disable_empty', 'valid', frame(MsgType.COMMAND, { ...newCommand(), mode: CommandMode.DISABLE }, 43, 2_000_100)),
    build('heartbeat', 'valid', frame(MsgType.HEARTBEAT, { hostState: 2 }, 100, 5_000)),
    build('estop_cat0', 'valid', frame(MsgType.ESTOP, { category: 0, source: EstopSource.REMOTE, reason: 7 }, 1, 1)),
    build('estop_cat1', 'valid', frame(MsgType.ESTOP, { category: 1, source: EstopSource.HOST, reason: 0 }, 2, 2)),
    build('estop_cat2_mcu_watchdog', 'valid', frame(MsgType.ESTOP, { category: 2, source: EstopSource.MCU_WATCHDOG, reason: 65535 }, 3, 3)),
    build('reset_all', 'valid', frame(MsgType.RESET, { what: ResetWhat.ESTOP | ResetWhat.FAULTS | ResetWhat.WATCHDOG, token: 0x01020304 }, 9, 9)),
    build('time_sync_req', 'valid', frame(MsgType.TIME_SYNC_REQ, { id: 77 }, 10, 10)),
    build('time_sync_resp', 'valid', frame(MsgType.TIME_SYNC_RESP, { id: 77, mcuRxUs: 4_294_967_000, mcuTxUs: 200 }, 11, 300)),
    build('config_arm7', 'valid', frame(MsgType.CONFIG, config, 12, 12)),
    build('config_32_joints_long', 'valid', frame(MsgType.CONFIG, bigConfig, 13, 13)),
    build('ack_reset', 'valid', frame(MsgType.ACK, { ackedType: MsgType.RESET, result: 1, ackedSeq: 9, detail: 0x01020304 }, 14, 14)),
    build('log_text', 'valid', frame(MsgType.LOG, { level: LogLevel.WARN, text: 'encoder 3: index pulse missing, µ=0.5' }, 15, 15)),
    build('log_invalid_utf8', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.LOG, 0, 0, [LogLevel.INFO, 0, 0x61, 0xc2])),
    build('stream_three_frames', 'valid', concat(
      frame(MsgType.HEARTBEAT, { hostState: 1 }, 65534, 1),
      frame(MsgType.HEARTBEAT, { hostState: 1 }, 65535, 2),
      frame(MsgType.HEARTBEAT, { hostState: 1 }, 0, 3),
    )),
    build('bad_crc_bit_flip', 'invalid', flipped),
    build('bad_cobs_block_past_end', 'invalid', cobsBad),
    build('truncated_frame', 'invalid', concat(stateFrame.subarray(0, 40), Uint8Array.of(0))),
    build('too_short', 'invalid', Uint8Array.of(0x03, 0x01, 0x02, 0x02, 0x05, 0x00)),
    build('oversized_segment', 'invalid', concat(longGarbage, Uint8Array.of(0))),
    build('garbage_then_frame', 'invalid', concat(Uint8Array.of(0x13, 0x37, 0xff, 0x00), frame(MsgType.HEARTBEAT, { hostState: 0 }, 5, 5))),
    build('bad_version', 'invalid', rawFrame(PROTOCOL_MAJOR + 1, MsgType.HEARTBEAT, 0, 0, [0, 0, 0, 0])),
    build('unknown_type', 'invalid', rawFrame(PROTOCOL_MAJOR, 0x7f, 0, 0, [1, 2, 3])),
    build('state_length_mismatch', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.STATE, 0, 0, [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])),
    build('state_too_many_joints', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.STATE, 0, 0, [33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    build('estop_bad_category', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.ESTOP, 0, 0, [3, ...estopBody.slice(1)])),
    build('command_nan_velocity', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.COMMAND, 0, 0, [1, CommandMode.POSITION, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0xc0, 0x7f, 0, 0, 0, 0])),
    build('command_bad_mode', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.COMMAND, 0, 0, [0, 9, 0, 0])),
    build('reset_unknown_bits', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.RESET, 0, 0, [0x80, 0, 0, 0, 1, 0, 0, 0])),
    // SPEC 1.1 decisions (§2 framing and check order, §3 STATE.imu_sample, ESTOP reason 0, §2 restarts).
    build('cobs_full_run_trailing_code', 'valid', fullRun.bytes),
    build('cobs_full_run_no_trailing_code', 'accepted', noTrailing),
    build('order_cobs_before_short', 'invalid', Uint8Array.of(0x05, 0x01, 0x02, 0x00)),
    build('order_crc_before_version', 'invalid', withBadCrc(PROTOCOL_MAJOR + 1, MsgType.HEARTBEAT, [0, 0, 0, 0])),
    build('order_crc_before_body', 'invalid', withBadCrc(PROTOCOL_MAJOR, MsgType.STATE, [2, 0, 0, 0])),
    build('order_version_before_type', 'invalid', rawFrame(PROTOCOL_MAJOR + 1, 0x7f, 0, 0, [1, 2, 3])),
    build('order_type_before_body', 'invalid', rawFrame(PROTOCOL_MAJOR, 0x0c, 0, 0, [])),
    build('state_imu_sample_counter', 'valid', frame(MsgType.STATE, imuState, 8, 1_001_000)),
    build('state_orientation_without_imu', 'valid', frame(MsgType.STATE, orientationOnly, 9, 1_002_000)),
    build('hello_mcu_minor_0', 'valid', frame(MsgType.HELLO, hello10, 0, 12)),
    build('estop_host_shutdown_reason_0', 'valid', frame(MsgType.ESTOP, { category: 1, source: EstopSource.HOST, reason: 0 }, 20, 20)),
    build('estop_bad_source', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.ESTOP, 0, 0, [1, 5, 0, 0])),
    build('ack_config_bad_value', 'valid', frame(MsgType.ACK, { ackedType: MsgType.CONFIG, result: 2, ackedSeq: 12, detail: 0 }, 21, 21)),
    build('seq_gap_counts_lost', 'valid', concat(
      frame(MsgType.STATE, hbState, 5, 5),
      frame(MsgType.STATE, hbState, 9, 9),
    )),
    build('seq_restart_at_hello', 'valid', concat(
      frame(MsgType.STATE, hbState, 53000, 100),
      frame(MsgType.HELLO, hello, 0, 12),
      frame(MsgType.STATE, hbState, 1, 1000),
    )),
    build('config_min_above_max', 'invalid', rawFrame(PROTOCOL_MAJOR, MsgType.CONFIG, 0, 0, [100, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f])),
  ];
}
