/**
 * The edge daemon's entry point (`spinal edge`): starts the composed daemon, installs the controlled
 * stop for SIGTERM/SIGINT (a stop on the wire first, then STOPPING=1, then cleanup), and optionally
 * renders a live view of the robot in the terminal.
 */
import { newState, type StateMsg } from '../proto/wire/index.js';
import type { EdgeConfig } from './config.js';
import { startEdgeDaemon } from './daemon.js';
import { createLogger } from './logger.js';
import { renderRobotView } from './monitor/robot-view.js';
import type { StateEvent } from './serial/serial-link-types.js';
import { installShutdown } from './systemd/shutdown.js';

export { EDGE_SOFTWARE_VERSION } from './daemon.js';

export interface EdgeRunOptions {
  config: EdgeConfig;
  /** Render a live view of the robot on stdout (logs then go to stderr at warn level). */
  monitor: boolean;
}

function copyState(src: StateMsg, dst: StateMsg): void {
  dst.jointCount = src.jointCount; dst.flags = src.flags; dst.status = src.status;
  dst.faults = src.faults; dst.jointFaultMask = src.jointFaultMask;
  dst.position.set(src.position); dst.velocity.set(src.velocity); dst.current.set(src.current);
  dst.accel.set(src.accel); dst.gyro.set(src.gyro); dst.quat.set(src.quat);
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code. */
export async function runEdge(opts: EdgeRunOptions): Promise<number> {
  const { config } = opts;
  const logger = createLogger({ level: opts.monitor ? 'warn' : config.log.level, robotId: config.robot.id, fd: opts.monitor ? 2 : 1 });
  const daemon = await startEdgeDaemon(config, logger);
  const { link, supervisor } = daemon;

  const latest = newState();
  let haveState = false;
  let wantState = true;
  let framesInWindow = 0;
  let rateHz = 0;
  let firmware: string | null = null;
  // Only the live view needs STATE here: it counts frames and copies one per render (10 Hz), not
  // every frame (up to 1 kHz) on the serial receive path.
  if (opts.monitor) {
    link.on('state', (ev: StateEvent) => {
      framesInWindow++;
      if (!wantState) return;
      copyState(ev.msg, latest);
      haveState = true;
      wantState = false;
    });
  }
  link.on('hello', (h) => { firmware = `${h.fwMajor}.${h.fwMinor}.${h.fwPatch} (protocol ${h.protoMajor}.${h.protoMinor})`; });
  link.on('incompatible', (ev) => logger.error({ reason: ev.message }, 'firmware refused'));
  link.on('mcu-estop', (e) => logger.warn({ category: e.category, source: e.source, reason: e.reason }, 'MCU latched a stop'));

  const rateTimer = opts.monitor ? setInterval(() => { rateHz = framesInWindow; framesInWindow = 0; }, 1000) : null;
  const healthTimer = opts.monitor ? null : setInterval(() => logger.info({ health: link.health(), safety: supervisor.state, cloud: daemon.cloud?.health() }, 'edge health'), 10_000);
  const render = (): void => {
    const lines = renderRobotView({
      robotId: config.robot.id, profile: config.profileData, path: config.serial.path, health: link.health(),
      state: haveState ? latest : null, stateRateHz: rateHz, firmware,
    });
    lines.push('', `safety ${supervisor.state}${supervisor.latchedCause !== null ? ` (latched: ${String(supervisor.latchedCause)})` : ''}  cloud ${daemon.cloud?.linkState ?? 'off'}  mqtt ${daemon.mqtt ? (daemon.mqtt.connected ? 'connected' : 'down') : 'off'}`);
    process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n\n(Ctrl-C to stop)\n`);
    wantState = true;
  };
  const viewTimer = opts.monitor ? setInterval(render, 100) : null;
  logger.info({ path: config.serial.path, profile: config.profileData.id }, 'edge daemon started');

  const shutdown = installShutdown({
    stopOnWire: () => daemon.stopOnWire(),
    onStop: async () => {
      if (rateTimer) clearInterval(rateTimer);
      if (healthTimer) clearInterval(healthTimer);
      if (viewTimer) clearInterval(viewTimer);
      await daemon.close();
    },
    notifier: daemon.notifier,
    logger,
    timeoutMs: config.systemd.stopTimeoutMs,
    exit: () => undefined,
  });
  const code = await shutdown.done;
  logger.info({ code }, 'edge daemon stopped');
  return code;
}
