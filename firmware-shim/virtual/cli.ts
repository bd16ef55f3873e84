/**
 * `spinal sim`: a VirtualRobot on a PTY until SIGINT/SIGTERM. The first line of stdout is the tty
 * path (scripts read it); a one-line status goes to stderr every `statusEveryMs`.
 */
import { hostNowUs, VirtualRobot } from './virtual-robot.js';
import type { LineFaultConfig } from './line-faults.js';
import type { SeededFault } from './seeded-faults.js';
import { untilStopSignal } from './until-signal.js';

export interface SimOptions {
  /** Robot profile id. */
  profile: string;
  /** STATE rate, Hz (default: the profile's). */
  rate?: number;
  /** Stable symlink to the tty. */
  link?: string;
  seed?: number;
  /** Faults on the MCU → host byte stream. */
  faults?: LineFaultConfig;
  /** A firmware bug to imitate (seeded-faults.ts). */
  seededFault?: SeededFault;
  /** Model a line of this many baud each way (VirtualRobotOptions.baudRate). */
  baudRate?: number;
  /** Status line period on stderr, ms; 0 turns it off. Default 2000. */
  statusEveryMs?: number;
  /** Resolves to stop the simulation (tests); by default it runs until SIGINT or SIGTERM. */
  until?: Promise<void>;
  /** Where the tty path and status lines go. Default process.stdout / process.stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Option descriptions for the CLI wiring (flag, help), in the order to show them. */
export function describeSimOptions(): ReadonlyArray<{ flag: string; help: string }> {
  return [
    { flag: '--profile <name>', help: 'robot profile id' },
    { flag: '--rate <hz>', help: "STATE rate (default: the profile's)" },
    { flag: '--link <path>', help: 'also expose the tty at this stable path (a symlink, like a udev rule)' },
    { flag: '--seed <n>', help: 'seed of the simulated sensors and line faults' },
    { flag: '--baud <n>', help: 'model a serial line of this many baud (8N1) each way' },
  ];
}

export async function runSim(opts: SimOptions): Promise<void> {
  const out = opts.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const robot = new VirtualRobot({
    profile: opts.profile,
    ...(opts.rate !== undefined ? { stateRateHz: opts.rate } : {}),
    ...(opts.link !== undefined ? { linkPath: opts.link } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
    ...(opts.seededFault !== undefined ? { seededFault: opts.seededFault } : {}),
    ...(opts.baudRate !== undefined ? { baudRate: opts.baudRate } : {}),
  });
  robot.on('estop', (e) => err(`estop: category ${e.category} source ${e.source} reason ${e.reason}${e.malformed ? ' (malformed frame)' : ''}`));
  robot.on('watchdog', () => err('watchdog tripped: host silent, controlled stop'));
  const { ttyPath } = await robot.start();
  out(ttyPath);

  let lastUs = hostNowUs();
  let lastStates = 0;
  const everyMs = opts.statusEveryMs ?? 2000;
  const status = everyMs > 0 ? setInterval(() => {
    const now = hostNowUs();
    const c = robot.mcu.counters;
    const rate = ((c.stateSent - lastStates) * 1e6) / (now - lastUs);
    lastUs = now;
    lastStates = c.stateSent;
    const flags = [robot.estopLatched && 'ESTOP', robot.watchdogTripped && 'WATCHDOG', robot.motorsEnabled && 'ENABLED', robot.mcu.isHostSeen && 'HOST']
      .filter(Boolean).join(',') || '-';
    const line = robot.rxLine ? ` line_queue=${robot.rxLine.pending}B` : '';
    err(`state ${rate.toFixed(1)} Hz sent=${c.stateSent} cmds=${c.commandsObeyed}/${c.commandsIgnored} rx_err=${robot.mcu.rxCounters.resyncs} tx_drop=${robot.tx.counters.framesDropped}${line} [${flags}]`);
  }, everyMs) : null;

  await (opts.until ?? untilStopSignal());
  if (status) clearInterval(status);
  await robot.stop();
}
