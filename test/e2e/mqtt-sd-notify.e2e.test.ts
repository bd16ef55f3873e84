/**
 * The daemon's systemd life cycle against the virtual firmware: READY and WATCHDOG arrive on a
 * test notify socket; on SIGTERM the ESTOP reaches the firmware before systemd hears STOPPING.
 * (The signal is delivered through an injected emitter: the test runner owns this process's.)
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EstopSource, Status, StopCategory } from '../../proto/wire/index.js';
import { systemClock } from '../../edge/clock.js';
import { createNotifier, installShutdown, LivenessProbe, NotifyListener, SystemdWatchdog, watchdogPeriodUs } from '../../edge/systemd/index.js';
import { startRig, waitFor, type Rig } from './link-harness.js';

describe('systemd notifications around the serial link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spinal-sd-e2e-'));
  let rig: Rig | null = null;
  let listener: NotifyListener | null = null;
  afterEach(async () => {
    await rig?.dispose();
    await listener?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('READY once the link is up, WATCHDOG while healthy, ESTOP on the wire before STOPPING on SIGTERM', async () => {
    const socket = join(dir, 'notify.sock');
    listener = await NotifyListener.open(socket);
    const env = { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) };
    const notifier = createNotifier({ env });
    const r = rig = await startRig({ profile: 'arm6-gripper' });
    let estopAt = Number.NaN;
    r.robot.on('estop', () => { estopAt = performance.now(); });
    let status = 0;
    r.link.on('state', (ev) => { status = ev.msg.status; });

    // The daemon's main loop beats the liveness probe; here the STATE stream stands in for it.
    const probe = new LivenessProbe(systemClock, 200);
    r.link.on('state', () => probe.beat());
    await waitFor('serial link READY', () => r.link.state === 'READY', 10_000);
    await notifier.notify({ READY: 1, STATUS: 'serial link READY' });
    const wd = new SystemdWatchdog({ notifier, periodUs: watchdogPeriodUs(env) ?? 0, healthy: () => probe.healthy(), clock: systemClock });
    wd.start();
    await waitFor('READY and two WATCHDOG pings', () => listener !== null && listener.withKey('READY').length === 1 && listener.withKey('WATCHDOG').length >= 2, 3000);

    const signals = new EventEmitter();
    const shutdown = installShutdown({
      // A category-1 stop from the host, confirmed by the MCU's STATE before anything else happens.
      stopOnWire: async () => {
        wd.stop();
        if (!r.link.sendEstop(StopCategory.CAT1, EstopSource.HOST, 0)) return false;
        await waitFor('MCU reports the latch', () => (status & Status.ESTOP_LATCHED) !== 0, 500);
        return true;
      },
      onStop: () => r.link.stop(),
      notifier, logger: { info() {}, warn() {}, error() {} }, signals, exit: () => undefined,
    });
    signals.emit('SIGTERM');
    expect(await shutdown.done).toBe(0);
    await waitFor('STOPPING', () => listener !== null && listener.withKey('STOPPING').length === 1);
    const stoppingAt = listener.withKey('STOPPING')[0]?.at ?? Number.NaN;
    expect(r.robot.estopLatched).toBe(true);
    expect(estopAt).toBeLessThan(stoppingAt);
    expect(listener.withKey('STOPPING')[0]?.fields).toEqual({ STOPPING: '1', STATUS: 'stopping (SIGTERM)' });
  }, 30_000);
});
