/**
 * A scripted MCU on the far end of a MemoryTransport, for SerialLink tests. It answers HELLO,
 * CONFIG, TIME_SYNC_REQ and RESET as SPEC.md §4 says (each answer can be switched off or altered),
 * sends HEARTBEAT periodically so the link sees traffic, and records what the host sent. Its clock
 * is the test's ManualClock mapped through a known offset and drift.
 */
import {
  AckResult, FrameDecoder, FrameEncoder, MsgType, PROTOCOL_MAJOR, PROTOCOL_MINOR, Role, Status, newMessage, newState, readFrame,
  type CommandMsg, type ConfigMsg, type Frame, type MessageMap,
} from '../../../proto/wire/index.js';
import type { ManualClock, TimerHandle } from '../../clock.js';
import type { MemoryTransport } from '../memory-transport.js';

export interface FakeMcuOptions {
  profileId: string;
  jointCount: number;
  protoMajor?: number;
  protoMinor?: number;
  /** Header version of the frames it sends; default PROTOCOL_MAJOR. */
  frameVersion?: number;
  deviceId?: number;
  /** MCU clock = host µs · (1 + driftPpm·1e-6) + offsetUs, modulo 2^32. */
  offsetUs?: number;
  driftPpm?: number;
  configResult?: number;
  /** ms between MCU HEARTBEATs once configured; 0 for none. Default 25. */
  heartbeatMs?: number;
}

export interface ReceivedFrame {
  type: number;
  seq: number;
  /** Host clock (ManualClock) µs when the frame arrived. */
  atUs: number;
}

export class FakeMcu {
  readonly received: ReceivedFrame[] = [];
  answerHello = true;
  answerConfig = true;
  answerTimeSync = true;
  answerReset = true;
  /** When true the MCU sends nothing at all. */
  silent = false;
  lastConfig: ConfigMsg | null = null;
  lastCommand: CommandMsg | null = null;
  readonly encoder: FrameEncoder;
  private readonly decoder = new FrameDecoder();
  private readonly opts: FakeMcuOptions;
  private heartbeat: TimerHandle | null = null;

  constructor(readonly transport: MemoryTransport, private readonly clock: ManualClock, opts: FakeMcuOptions) {
    this.opts = opts;
    this.encoder = new FrameEncoder({ version: opts.frameVersion ?? PROTOCOL_MAJOR });
    transport.onFarData((bytes) => this.decoder.push(bytes, { onFrame: (f) => this.onHostFrame(f) }));
  }

  mcuNowUs(): number {
    const host = this.clock.nowUs();
    return Math.floor(host * (1 + (this.opts.driftPpm ?? 0) * 1e-6) + (this.opts.offsetUs ?? 0)) >>> 0;
  }

  send<T extends MsgType>(type: T, msg: MessageMap[T], timeUs = this.mcuNowUs()): void {
    if (this.silent) return;
    this.transport.farWrite(this.encoder.encode(type, msg, timeUs));
  }

  hello(): MessageMap[typeof MsgType.HELLO] {
    return {
      protoMajor: this.opts.protoMajor ?? PROTOCOL_MAJOR, protoMinor: this.opts.protoMinor ?? PROTOCOL_MINOR,
      fwMajor: 1, fwMinor: 2, fwPatch: 3, jointCount: this.opts.jointCount, role: Role.MCU,
      capabilities: 0x40, profileId: this.opts.profileId, deviceId: this.opts.deviceId ?? 0xc0ffee,
    };
  }

  /** Sends a STATE with `jointCount` joints (default the configured count). */
  sendState(jointCount = this.opts.jointCount, timeUs = this.mcuNowUs()): void {
    const s = newState();
    s.jointCount = jointCount;
    // A configured MCU says so in every STATE (the link takes a STATE without it for a restart).
    s.status = this.lastConfig !== null ? Status.CONFIGURED | Status.HOST_SEEN : 0;
    for (let j = 0; j < jointCount; j++) s.position[j] = 100 * j;
    this.send(MsgType.STATE, s, timeUs);
  }

  stop(): void {
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = null;
  }

  sentTypes(): number[] {
    return this.received.map((r) => r.type);
  }

  private onHostFrame(f: Frame): void {
    this.received.push({ type: f.type, seq: f.seq, atUs: this.clock.nowUs() });
    switch (f.type) {
      case MsgType.HELLO:
        if (this.answerHello) this.send(MsgType.HELLO, this.hello());
        break;
      case MsgType.CONFIG: {
        const c = newMessage(MsgType.CONFIG);
        if (readFrame(f, MsgType.CONFIG, c) === null) this.lastConfig = c;
        if (this.answerConfig) {
          this.send(MsgType.ACK, { ackedType: MsgType.CONFIG, result: this.opts.configResult ?? AckResult.OK, ackedSeq: f.seq, detail: 0 });
          this.startHeartbeat();
        }
        break;
      }
      case MsgType.TIME_SYNC_REQ: {
        const r = newMessage(MsgType.TIME_SYNC_REQ);
        readFrame(f, MsgType.TIME_SYNC_REQ, r);
        const t = this.mcuNowUs();
        if (this.answerTimeSync) this.send(MsgType.TIME_SYNC_RESP, { id: r.id, mcuRxUs: t, mcuTxUs: t });
        break;
      }
      case MsgType.RESET: {
        const r = newMessage(MsgType.RESET);
        readFrame(f, MsgType.RESET, r);
        if (this.answerReset) this.send(MsgType.ACK, { ackedType: MsgType.RESET, result: AckResult.OK, ackedSeq: f.seq, detail: r.token });
        break;
      }
      case MsgType.COMMAND: {
        const c = newMessage(MsgType.COMMAND);
        if (readFrame(f, MsgType.COMMAND, c) === null) this.lastCommand = c;
        break;
      }
      default:
        break;
    }
  }

  private startHeartbeat(): void {
    const ms = this.opts.heartbeatMs ?? 25;
    if (ms <= 0 || this.heartbeat) return;
    const tick = (): void => {
      this.heartbeat = null;
      if (!this.transport.isOpen) return;
      this.send(MsgType.HEARTBEAT, { hostState: 0 });
      this.heartbeat = this.clock.setTimeout(tick, ms);
    };
    this.heartbeat = this.clock.setTimeout(tick, ms);
  }
}
