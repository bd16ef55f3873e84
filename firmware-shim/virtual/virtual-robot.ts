/**
 * A whole simulated robot on a serial port: PTY + MCU firmware + plant + a real-time loop. The
 * edge opens `ttyPath` with the real `serialport` library, as it would a USB-serial adapter.
 *
 * Real time: Node's timers cannot hold 1 kHz (setInterval(1) wakes about 917 times a second), so
 * the loop wakes on a 1 ms interval and, on each wake, catches up against the monotonic clock:
 * `Mcu.tick(now)` steps the plant and emits every STATE frame due by now, each stamped and sampled
 * at its own due time. The average rate is therefore exact and no frame is skipped; only the
 * spacing jitters by the wake latency, as a USB bridge's batching would.
 *
 * Input path, and the one place where simulation differs from the chip on purpose: a real MCU's
 * UART ISR takes each byte when it arrives, whatever the main loop is doing, so bytes from the host
 * are never later than the host made them. This process, though, can be descheduled (a loaded CI
 * machine, GC): then the host's bytes wait in the PTY while the loop's time runs on, and replaying
 * the missed loops before reading them would trip the watchdog on a host that kept talking. So on
 * every wake (and every data event) the loop first takes what waits (a non-blocking read of the
 * master) and hands it to the MCU stamped no later than it could have arrived: the bytes came
 * after the last moment the input was seen empty (`inputSeenEmptyUs`) and by now, so the frames
 * in them are spread evenly over that window (the last one now), and only then is the rest of the
 * window replayed. The limit: only the sim's own lateness is forgiven, never host silence. A host
 * that sent nothing during the stall finds the watchdog tripped in the replay, and one that sent
 * too few frames to have kept every gap under the timeout trips too, as on the chip (n frames in
 * a window of S: gaps of S/n). In a loop that wakes on time the window is under a millisecond.
 *
 * Output path: MCU frame → line faults (optional) → TxQueue (copied: the encoder's buffer is
 * reused) → non-blocking write to the PTY master. When the host stops reading, the kernel queue
 * fills, writes take nothing, the TxQueue fills and whole frames are dropped and counted, like a
 * UART with no flow control.
 *
 * With `baudRate` the PTY behaves like a cable of that speed (line-rate.ts): the host's bytes reach
 * the MCU at the line's rate (all input goes through an RxLine, stamped with its arrival on the
 * line), the MCU's frames leave at the line's rate, and the transmit buffer is the 4 KiB of a
 * microcontroller's UART (two 2 KiB DMA buffers in the STM32 example) instead of 64 KiB, so STATE
 * beyond the line's capacity is dropped whole at the MCU, as on the chip.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { getProfile, Plant, type RobotProfile } from '../../hardware/index.js';
import type { CommandMsg, FrameErrorKind } from '../../proto/wire/index.js';
import { LineFaults, type LineFaultConfig } from './line-faults.js';
import { RxLine, TxLine } from './line-rate.js';
import { Mcu } from './mcu.js';
import { SeededFaultLayer, type SeededFault } from './seeded-faults.js';
import { openPty, type PtyPair } from './pty.js';
import { TxQueue } from './tx-queue.js';

export interface VirtualRobotOptions {
  /** A profile id (hardware registry) or a profile object. */
  profile: string | RobotProfile;
  /** STATE rate at boot; default the profile's serial.stateRateHz. */
  stateRateHz?: number;
  /** Stable path kept pointing at the current PTY, like a udev symlink. */
  linkPath?: string;
  /** Seed of the plant's sensor noise and of the line faults. Default 1. */
  seed?: number;
  /** MCU clock model; see McuClock. */
  clockOffsetUs?: number;
  driftPpm?: number;
  /** Faults on the MCU → host byte stream; change later with `lineFaults.configure()`. */
  faults?: LineFaultConfig;
  /** Advertise and simulate a hardware e-stop button. */
  hardwareEstop?: boolean;
  /** A firmware bug to imitate (seeded-faults.ts), for testing tools that must catch it. */
  seededFault?: SeededFault;
  /** Model a line of this many baud (8N1) each way; default none (the PTY's own speed). */
  baudRate?: number;
  /** Loop wake interval, ms. Default 1. */
  loopIntervalMs?: number;
  /** The simulation's true time, µs (default hostNowUs). Tests inject one to make a stall of the
   * loop deterministic: advance it inside a synchronous block, where no wake can run. */
  clockUs?: () => number;
}

export interface EstopEvent {
  category: number;
  source: number;
  reason: number;
  malformed: boolean;
}

export interface VirtualRobotEvents {
  command: [cmd: Readonly<CommandMsg>, obeyed: boolean];
  estop: [event: EstopEvent];
  watchdog: [];
  'frame-error': [kind: FrameErrorKind | 'body', detail: string];
  /** After boot and after each replug. */
  boot: [ttyPath: string];
  unplug: [];
}

/** Quiet time before an unplug closes the PTY, so the host's read is parked in its poller and
 * serialport reports the disconnect (closed mid-read, it spins on EOF instead; see pty.test.ts). */
const UNPLUG_QUIET_MS = 30;

/** The MCU's transmit buffer when a line rate is modelled, bytes. */
const UART_TX_BUFFER = 4096;

/** The host's clock as the simulation's true time, µs (monotonic, arbitrary epoch). */
export function hostNowUs(): number {
  return performance.now() * 1000;
}

export class VirtualRobot extends EventEmitter<VirtualRobotEvents> {
  readonly profile: RobotProfile;
  readonly lineFaults: LineFaults;
  readonly tx: TxQueue;
  /** The line each way when `baudRate` is given; null otherwise. */
  readonly rxLine: RxLine | null;
  readonly txLine: TxLine | null;
  private readonly opts: VirtualRobotOptions;
  private pty: PtyPair | null = null;
  private mcuInstance: Mcu | null = null;
  private plantInstance: Plant | null = null;
  private timer: NodeJS.Timeout | null = null;
  private boots = 0;
  private wakes = 0;
  private readonly now: () => number;
  /** Host time at which the PTY's input was last seen empty: waiting bytes came after it. */
  private inputSeenEmptyUs = 0;
  private readonly rxScratch = Buffer.alloc(4096);
  private readonly faultLayer: SeededFaultLayer | null;

  constructor(opts: VirtualRobotOptions) {
    super();
    this.opts = opts;
    this.profile = typeof opts.profile === 'string' ? getProfile(opts.profile) : opts.profile;
    this.lineFaults = new LineFaults((opts.seed ?? 1) ^ 0x51ed, opts.faults ?? {});
    this.now = opts.clockUs ?? hostNowUs;
    this.faultLayer = opts.seededFault !== undefined ? new SeededFaultLayer(opts.seededFault) : null;
    this.rxLine = opts.baudRate === undefined ? null : new RxLine(opts.baudRate);
    this.txLine = opts.baudRate === undefined ? null : new TxLine(opts.baudRate);
    this.tx = new TxQueue(opts.baudRate === undefined ? undefined : UART_TX_BUFFER);
  }

  /** The firmware of the present power cycle. Throws before start(). */
  get mcu(): Mcu {
    if (!this.mcuInstance) throw new Error('VirtualRobot: not started');
    return this.mcuInstance;
  }
  /** The plant of the present power cycle. Throws before start(). */
  get plant(): Plant {
    if (!this.plantInstance) throw new Error('VirtualRobot: not started');
    return this.plantInstance;
  }
  get ttyPath(): string | null {
    return this.pty?.ttyPath ?? null;
  }
  get running(): boolean {
    return this.timer !== null;
  }
  get estopLatched(): boolean { return this.mcu.isEstopLatched; }
  get watchdogTripped(): boolean { return this.mcu.isWatchdogTripped; }
  get motorsEnabled(): boolean { return this.mcu.motorsEnabled; }
  get lastCommand(): Readonly<CommandMsg> | null { return this.mcu.lastCommand; }
  /** Loop wakes since the last boot (for rate diagnostics). */
  get loopWakes(): number { return this.wakes; }

  /** The MCU's wire time at host time `hostUs` (see hostNowUs): time-sync ground truth. */
  mcuTimeAt(hostUs: number): number {
    return this.mcu.mcuTimeAt(hostUs);
  }

  async start(): Promise<{ ttyPath: string }> {
    if (this.pty) throw new Error('VirtualRobot: already started');
    return this.powerOn();
  }

  /** Stops the loop and removes the device (quietly, as unplug does). Idempotent. */
  async stop(): Promise<void> {
    this.stopLoop();
    const pty = this.pty;
    this.pty = null;
    if (!pty) return;
    await new Promise((r) => setTimeout(r, UNPLUG_QUIET_MS));
    pty.close();
  }

  /**
   * Pulls the cable: the MCU loses power and the host sees its port vanish. By default the line
   * goes quiet for a moment first, so the host's read is parked and serialport reports the close;
   * `abrupt` closes mid-stream, where serialport 13 on a PTY may miss it (see pty.test.ts) and the
   * host has to notice the silence instead.
   */
  async unplug(opts: { abrupt?: boolean } = {}): Promise<void> {
    if (!this.pty) return;
    this.stopLoop();
    if (!opts.abrupt) await new Promise((r) => setTimeout(r, UNPLUG_QUIET_MS));
    this.pty.close();
    this.pty = null;
    this.emit('unplug');
  }

  /** Plugs back in: a new PTY (the link, if any, follows it) and a power-cycled MCU that boots,
   * sending HELLO. The joints stay where they were; the firmware forgets everything. */
  async replug(): Promise<{ ttyPath: string }> {
    if (this.pty) await this.unplug();
    return this.powerOn();
  }

  private powerOn(): { ttyPath: string } {
    const pty = openPty(this.opts.linkPath !== undefined ? { linkPath: this.opts.linkPath } : {});
    this.pty = pty;
    this.tx.clear();
    this.faultLayer?.reset();
    this.rxLine?.clear();
    const plant = new Plant(this.profile, { seed: (this.opts.seed ?? 1) + this.boots, initialPose: this.restingPose() });
    const mcu = new Mcu({
      profile: this.profile,
      plant,
      send: (bytes, length) => this.transmit(bytes, length),
      ...(this.opts.stateRateHz !== undefined ? { stateRateHz: this.opts.stateRateHz } : {}),
      ...(this.opts.clockOffsetUs !== undefined ? { clockOffsetUs: this.opts.clockOffsetUs } : {}),
      ...(this.opts.driftPpm !== undefined ? { driftPpm: this.opts.driftPpm } : {}),
      ...(this.opts.hardwareEstop !== undefined ? { hardwareEstop: this.opts.hardwareEstop } : {}),
      hooks: {
        onCommand: (cmd, obeyed) => this.emit('command', cmd, obeyed),
        onEstop: (category, source, reason, malformed) => this.emit('estop', { category, source, reason, malformed }),
        onWatchdog: () => this.emit('watchdog'),
        onFrameError: (kind, detail) => this.emit('frame-error', kind, detail),
      },
    });
    this.plantInstance = plant;
    this.mcuInstance = mcu;
    this.boots++;
    this.wakes = 0;
    pty.onData((chunk) => {
      this.takeInput(mcu, chunk, this.now());
      this.flushTx();
    });
    const bootUs = this.now();
    this.inputSeenEmptyUs = bootUs;
    mcu.boot(bootUs);
    this.flushTx();
    this.timer = setInterval(() => this.wake(), this.opts.loopIntervalMs ?? 1);
    this.emit('boot', pty.ttyPath);
    return { ttyPath: pty.ttyPath };
  }

  /** Joint angles to power up in: where the last plant left them, else the profile's home. */
  private restingPose(): number[] {
    const home = this.profile.poses['home'] as number[];
    const prev = this.plantInstance;
    if (!prev) return home;
    return this.profile.joints.map((j, i) => Math.min(j.limits.positionMax, Math.max(j.limits.positionMin, prev.truth.q[i] as number)));
  }

  private wake(): void {
    this.wakes++;
    const now = this.now();
    const mcu = this.mcu;
    const pty = this.pty;
    // Input first, then time (see the module comment): a late wake must not replay the watchdog
    // past bytes that were already waiting.
    if (pty) {
      for (let n = pty.readWaiting(this.rxScratch); n > 0; n = pty.readWaiting(this.rxScratch)) {
        this.takeInput(mcu, this.rxScratch.subarray(0, n), now);
      }
    }
    this.inputSeenEmptyUs = Math.max(this.inputSeenEmptyUs, now);
    this.rxLine?.deliver(now, (bytes, at) => mcu.handleBytes(bytes, at));
    mcu.tick(now);
    this.flushTx();
  }

  /**
   * Hands bytes found waiting at `now` to the MCU. They arrived after `inputSeenEmptyUs`; each
   * frame (COBS frames end in 0x00) is stamped at its share of that window, the last at `now`,
   * so a host that kept sending is heard as often as it spoke while this process was stalled.
   */
  private takeInput(mcu: Mcu, received: Uint8Array, now: number): void {
    const chunk = this.faultLayer ? this.faultLayer.inbound(received) : received;
    const from = Math.min(this.inputSeenEmptyUs, now);
    let frames = 0;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0) frames++;
    if (chunk.length > 0 && chunk[chunk.length - 1] !== 0) frames++; // a partial frame at the end
    const line = this.rxLine;
    const sink = (bytes: Uint8Array, at: number): void => mcu.handleBytes(bytes, at);
    // With a line: what arrived before these bytes goes first (a late wake of this process must not
    // count it as waiting), then each frame enters the line when it reached the PTY (spread over the
    // window as below) and arrives at the line's rate from there.
    line?.deliver(now, sink);
    let start = 0;
    let k = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0 && i !== chunk.length - 1) continue;
      k++;
      const at = k === frames ? now : from + ((now - from) * k) / frames;
      if (line) line.push(chunk.subarray(start, i + 1), from + ((now - from) * (k - 1)) / frames);
      else mcu.handleBytes(chunk.subarray(start, i + 1), at);
      start = i + 1;
    }
    line?.deliver(now, sink);
    this.inputSeenEmptyUs = now;
  }

  private transmit(sent: Uint8Array, sentLength: number): void {
    const bytes = this.faultLayer ? this.faultLayer.outbound(sent, sentLength) : sent;
    const length = bytes === sent ? sentLength : bytes.length;
    if (length === 0) return;
    const out = this.lineFaults.active ? this.lineFaults.apply(bytes, length) : bytes;
    if (this.tx.pending === 0) this.txLine?.wake(this.now());
    this.tx.enqueue(out, out === bytes ? length : out.length);
  }

  private flushTx(): void {
    const pty = this.pty;
    if (!pty) return;
    const line = this.txLine;
    const write = (b: Uint8Array, off: number, len: number): number => pty.write(b, off, len);
    if (!line) {
      this.tx.flush(write);
      return;
    }
    line.sent(this.tx.flush(write, line.allowance(this.now())));
  }

  private stopLoop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
