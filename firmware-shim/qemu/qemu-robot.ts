/**
 * The firmware image of firmware-shim/c/ports/mps2-an386 running under QEMU (`qemu-system-arm -M
 * mps2-an386`), its host UART on a pseudo-terminal: the same robot as the virtual firmware, but
 * the real Cortex-M4F build of the C core instead of its WebAssembly build.
 *
 * Start-up order, and why: QEMU starts halted (`-S`) with a QMP socket; the PTY's path is read
 * with `query-chardev`; this process opens the PTY's slave and holds it (never reading it) for
 * QEMU's whole life; the stable link is pointed at it; only then does QMP `cont` start the CPU.
 * Without a descriptor on the slave QEMU's PTY backend counts the port as disconnected, drops
 * what the MCU sends, and polls for a reader only once a second, so bytes from a host that
 * (re)opens the port reach the MCU up to a second late. Held open, the backend stays connected:
 * nothing the MCU sends is dropped by QEMU, and the host can close and reopen the port as it
 * would a USB adapter that stays plugged in (serialport flushes what waited in the queue when it
 * opens, as on real hardware).
 *
 * QEMU is started through the caller's `spawn` (bin/ passes edge/process/tethered-child's
 * spawnProgram, `setpriv --pdeathsig KILL`), so it dies with this process however this one ends.
 *
 * Observability without the wire: the image keeps a probe block (ports/common/app.h) at the start
 * of RAM; `readProbe()` reads it through QMP (`xp`), so tests see the firmware's own latch, counters
 * and clamped targets rather than only what it reports.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readlinkSync, rmSync, unlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { updateSymlink } from '../virtual/pty.js';
import { Qmp } from './qmp.js';

export type SpawnProgram = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const QEMU_BINARY = 'qemu-system-arm';
export const QEMU_MACHINE = 'mps2-an386';
/** Start of the AN386 image's RAM, where its linker script puts the probe block. */
export const PROBE_ADDRESS = 0x2000_0000;
export const PROBE_MAGIC = 0x4c4e5053;
const PROBE_WORDS = 21;

/** The image's probe block (app_probe_t in ports/common/app.h), field for field. */
export interface McuProbe {
  status: number;
  ticks: number;
  nowUs: number;
  framesRx: number;
  crcErrors: number;
  resyncs: number;
  rxOverruns: number;
  commandsObeyed: number;
  commandsIgnored: number;
  commandsClamped: number;
  stops: number;
  watchdogTrips: number;
  resetsAccepted: number;
  stateSent: number;
  txDropped: number;
  driveMode: number;
  outPosition: number[];
}

export interface QemuRobotOptions {
  /** The mps2-an386 .elf (firmware-shim/c/build/mps2-an386/<profile>.elf from `npm run firmware`). */
  image: string;
  /** Stable path kept pointing at the PTY, like a udev symlink. */
  linkPath?: string;
  spawn: SpawnProgram;
  /** Default qemu-system-arm on PATH. */
  qemu?: string;
  /** How long QEMU may take to open its QMP socket. Default 20 s (a loaded machine). */
  startTimeoutMs?: number;
}

export interface QemuRobotEvents {
  /** QEMU exited (by stop() or on its own). */
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

/** The program's path when it is on PATH (or a path that is executable), else null. */
export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = name.includes('/') ? [name] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch { /* next */ }
  }
  return null;
}

/** Why this robot cannot run here (QEMU or the image missing), or null when it can. */
export function qemuUnavailable(image: string, qemu = QEMU_BINARY): string | null {
  if (findProgram(qemu) === null) return `${qemu} is not installed (Debian: apt-get install --no-install-recommends qemu-system-arm)`;
  if (!existsSync(image)) return `no firmware image at ${image} (build it with \`npm run firmware\`; needs gcc-arm-none-eabi and libnewlib-arm-none-eabi)`;
  return null;
}

export function parseProbe(xpOutput: string): McuProbe {
  const words: number[] = [];
  for (const line of xpOutput.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    for (const w of line.slice(colon + 1).trim().split(/\s+/)) if (/^0x[0-9a-f]+$/i.test(w)) words.push(Number(w));
  }
  if (words.length < PROBE_WORDS) throw new Error(`probe: expected ${PROBE_WORDS} words, read ${words.length} from ${JSON.stringify(xpOutput.slice(0, 200))}`);
  if (words[0] !== PROBE_MAGIC) throw new Error(`probe: no probe block at 0x${PROBE_ADDRESS.toString(16)} (magic 0x${(words[0] ?? 0).toString(16)}): not a Spinal mps2-an386 image, or not booted`);
  const w = (i: number): number => words[i] ?? 0;
  const s32 = (i: number): number => w(i) | 0;
  return {
    status: w(1), ticks: w(2), nowUs: w(3), framesRx: w(4), crcErrors: w(5), resyncs: w(6), rxOverruns: w(7),
    commandsObeyed: w(8), commandsIgnored: w(9), commandsClamped: w(10), stops: w(11), watchdogTrips: w(12),
    resetsAccepted: w(13), stateSent: w(14), txDropped: w(15), driveMode: w(16),
    outPosition: [s32(17), s32(18), s32(19), s32(20)],
  };
}

export class QemuRobot extends EventEmitter<QemuRobotEvents> {
  private child: ChildProcess | null = null;
  private qmp: Qmp | null = null;
  private holder: number | null = null;
  private estopLine: Socket | null = null;
  private dir: string | null = null;
  private tty: string | null = null;
  private stderr = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: QemuRobotOptions) {
    super();
  }

  get ttyPath(): string | null {
    return this.tty;
  }
  /** QEMU's pid, while it runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<{ ttyPath: string }> {
    if (this.child) throw new Error('QemuRobot: already started');
    const why = qemuUnavailable(this.opts.image, this.opts.qemu);
    if (why) throw new Error(`QemuRobot: ${why}`);
    const dir = mkdtempSync(join(tmpdir(), 'spinal-qemu-'));
    this.dir = dir;
    const qmpPath = join(dir, 'qmp.sock');
    const estopPath = join(dir, 'estop.sock');
    const args = [
      '-M', QEMU_MACHINE, '-nographic', '-S', '-monitor', 'none',
      '-chardev', 'pty,id=link', '-serial', 'chardev:link',
      '-chardev', `socket,id=estop,path=${estopPath},server=on,wait=off`, '-serial', 'chardev:estop',
      '-qmp', `unix:${qmpPath},server=on,wait=off`,
      '-kernel', this.opts.image,
    ];
    const child = this.opts.spawn(this.opts.qemu ?? QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.child = null;
        this.emit('exit', code, signal);
        resolve();
      });
      child.once('error', () => resolve());
    });
    try {
      const deadline = Date.now() + (this.opts.startTimeoutMs ?? 20_000);
      while (!existsSync(qmpPath)) {
        if (child.exitCode !== null || child.signalCode !== null || this.child === null) throw new Error(`QEMU exited at start: ${this.stderr.trim() || `code ${child.exitCode}`}`);
        if (Date.now() > deadline) throw new Error(`QEMU opened no QMP socket within ${this.opts.startTimeoutMs ?? 20_000} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const qmp = await Qmp.connect(qmpPath);
      this.qmp = qmp;
      const devs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
      const link = devs.find((d) => d.label === 'link');
      if (!link?.filename.startsWith('pty:')) throw new Error(`QEMU: no PTY for the host link in query-chardev (${JSON.stringify(devs)})`);
      const tty = link.filename.slice('pty:'.length);
      this.holder = openSync(tty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      this.tty = tty;
      if (this.opts.linkPath !== undefined) updateSymlink(this.opts.linkPath, tty);
      this.estopLine = await new Promise<Socket>((resolve, reject) => {
        const s = connect(estopPath);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      this.estopLine.on('error', () => undefined);
      await qmp.execute('cont');
      // Booted once the reset handler has zeroed RAM and app_init has written the probe's magic.
      for (;;) {
        try {
          await this.readProbe();
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`the firmware did not boot: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      return { ttyPath: tty };
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** The firmware's probe block, read from the emulated RAM. */
  async readProbe(): Promise<McuProbe> {
    if (!this.qmp) throw new Error('QemuRobot: not started');
    return parseProbe(await this.qmp.hmp(`xp /${PROBE_WORDS}wx 0x${PROBE_ADDRESS.toString(16)}`));
  }

  /** The hardware e-stop input (the image reads it from UART1). */
  setButton(pressed: boolean): void {
    if (!this.estopLine) throw new Error('QemuRobot: not started');
    this.estopLine.write(pressed ? '1' : '0');
  }

  /** Resets the MCU (QMP system_reset): the firmware boots again and forgets everything. */
  async reboot(): Promise<void> {
    const qmp = this.qmp;
    if (!qmp) throw new Error('QemuRobot: not started');
    // system_reset only requests the reset; QEMU performs it later in its main loop and then
    // sends the RESET event. A reset keeps RAM: the old probe block stays readable until the
    // image's start-up code clears it, and reads as all zeros while it is being initialised.
    // So resolve only once the probe reads back whole with a tick count that started again.
    // The old boot must have run long enough (2000 ticks, 2 s of its time) that a new boot is
    // told apart by its lower tick count even when this process polls late.
    const settleBy = Date.now() + 15_000;
    let before = await this.readProbe().catch(() => null);
    while ((before === null || before.ticks < 2000) && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 20));
      before = await this.readProbe().catch(() => null);
    }
    const reset = qmp.nextEvent('RESET');
    await qmp.execute('system_reset');
    await reset;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const p = await this.readProbe();
        if (p.ticks > 0 && (before === null || p.ticks < before.ticks)) return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`QemuRobot: the image did not boot again within 10 s of the reset: ${(e as Error).message}`);
      }
      if (Date.now() > deadline) throw new Error('QemuRobot: the image did not tick within 10 s of the reset');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops QEMU (QMP quit, SIGKILL after 3 s) and removes the link. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child) {
      try {
        await this.qmp?.execute('quit');
      } catch { /* already going */ }
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    this.qmp?.close();
    this.qmp = null;
    this.estopLine?.destroy();
    this.estopLine = null;
    if (this.holder !== null) closeSync(this.holder);
    this.holder = null;
    if (this.opts.linkPath !== undefined && this.tty !== null) {
      try {
        if (readlinkSync(this.opts.linkPath) === this.tty) unlinkSync(this.opts.linkPath);
      } catch { /* gone already */ }
    }
    this.tty = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
