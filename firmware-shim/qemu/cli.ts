/**
 * `spinal sim --firmware qemu`: the mps2-an386 image of a profile under QEMU, its host UART on a
 * PTY, until SIGINT/SIGTERM. Like the virtual firmware's `spinal sim`: the first line of stdout is
 * the tty path, a status line goes to stderr every `statusEveryMs` (read from the firmware's probe
 * block). The STATE rate is the host's to set (CONFIG); the image boots with the profile's.
 */
import { defaultImagePath } from '../c/ports/build-ports.js';
import { QemuRobot, qemuUnavailable, type SpawnProgram } from './qemu-robot.js';
import { untilStopSignal } from '../virtual/until-signal.js';

export interface QemuSimOptions {
  profile: string;
  /** Default firmware-shim/c/build/mps2-an386/<profile>.elf. */
  image?: string;
  link?: string;
  spawn: SpawnProgram;
  statusEveryMs?: number;
  until?: Promise<void>;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const STATUS_ESTOP = 0x1;
const STATUS_WATCHDOG = 0x2;
const STATUS_ENABLED = 0x4;
const STATUS_HOST_SEEN = 0x20;

/** The image `spinal sim --firmware qemu --profile <p>` boots. */
export function qemuImageFor(profile: string): string {
  return defaultImagePath('mps2-an386', profile);
}

/** Why `--firmware qemu` cannot run this profile here, or null. */
export function qemuSimUnavailable(profile: string, image = qemuImageFor(profile)): string | null {
  return qemuUnavailable(image);
}

export async function runQemuSim(opts: QemuSimOptions): Promise<void> {
  const out = opts.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const robot = new QemuRobot({ image: opts.image ?? qemuImageFor(opts.profile), spawn: opts.spawn, ...(opts.link !== undefined ? { linkPath: opts.link } : {}) });
  let stopping = false;
  const died = new Promise<void>((resolve) => robot.once('exit', (code, signal) => {
    if (!stopping) err(`qemu exited unexpectedly (code ${code}, signal ${signal})`);
    resolve();
  }));
  const { ttyPath } = await robot.start();
  out(ttyPath);

  const everyMs = opts.statusEveryMs ?? 2000;
  let last: { us: number; states: number } | null = null;
  const status = everyMs > 0 ? setInterval(() => {
    robot.readProbe().then((p) => {
      const rate = last && p.nowUs !== last.us ? ((p.stateSent - last.states) * 1e6) / ((p.nowUs - last.us) >>> 0) : 0;
      last = { us: p.nowUs, states: p.stateSent };
      const flags = [p.status & STATUS_ESTOP && 'ESTOP', p.status & STATUS_WATCHDOG && 'WATCHDOG', p.status & STATUS_ENABLED && 'ENABLED', p.status & STATUS_HOST_SEEN && 'HOST']
        .filter(Boolean).join(',') || '-';
      err(`qemu: state ${rate.toFixed(1)} Hz sent=${p.stateSent} cmds=${p.commandsObeyed}/${p.commandsIgnored} clamped=${p.commandsClamped} rx_crc=${p.crcErrors} tx_drop=${p.txDropped} [${flags}]`);
    }).catch(() => undefined);
  }, everyMs) : null;

  await Promise.race([died, opts.until ?? untilStopSignal()]);
  stopping = true;
  if (status) clearInterval(status);
  await robot.stop();
}
