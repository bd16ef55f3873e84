import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { Notifier, NotifyFields } from './sd-notifier.js';
import { installShutdown } from './shutdown.js';
import { SystemdConfigSchema } from './systemd-config.js';
import { renderUnitFile } from './unit-file.js';
import { LivenessProbe, SystemdWatchdog, watchdogPeriodUs } from './watchdog.js';

function recorder(log: string[]): Notifier {
  return {
    enabled: true, socket: '@test', disabled: null,
    notify: (f: NotifyFields) => { log.push(Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ')); return Promise.resolve(); },
    close: () => Promise.resolve(),
  };
}
const quiet = { info() {}, warn() {}, error() {} };

describe('systemd watchdog', () => {
  it('reads WATCHDOG_USEC and WATCHDOG_PID', () => {
    expect(watchdogPeriodUs({ WATCHDOG_USEC: '5000000' }, 42)).toBe(2_500_000);
    expect(watchdogPeriodUs({ WATCHDOG_USEC: '5000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogPeriodUs({}, 42)).toBeNull();
    expect(watchdogPeriodUs({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
  });
  it('pings every half period only while the main loop beats', () => {
    const clock = new ManualClock();
    const sent: string[] = [];
    const probe = new LivenessProbe(clock, 100);
    const wd = new SystemdWatchdog({ notifier: recorder(sent), periodUs: 250_000, healthy: () => probe.healthy(), clock });
    wd.start();
    for (let i = 0; i < 100; i++) { probe.beat(); clock.advance(10); } // 1 s of a beating loop
    expect(sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
    clock.advance(1000); // the loop wedges: no beats
    expect(sent).toHaveLength(4);
    expect(wd.skipped).toBe(4);
    wd.stop();
    expect(clock.pending).toBe(0);
  });
});

describe('controlled shutdown', () => {
  it('on SIGTERM: the stop goes on the wire first, then STOPPING, then cleanup, then exit', async () => {
    const order: string[] = [];
    const signals = new EventEmitter();
    const exits: number[] = [];
    const h = installShutdown({
      stopOnWire: (sig) => { order.push(`wire ${sig}`); return true; },
      onStop: async () => { order.push('cleanup'); },
      notifier: recorder(order), logger: quiet, signals, exit: (c) => exits.push(c),
    });
    signals.emit('SIGTERM');
    signals.emit('SIGINT');
    expect(await h.done).toBe(0);
    expect(order).toEqual(['wire SIGTERM', 'STOPPING=1 STATUS=stopping (SIGTERM)', 'cleanup']);
    expect(exits).toEqual([0]);
  });
  it('exits 1 when the wire stop fails or cleanup overruns, still telling systemd', async () => {
    const order: string[] = [];
    const signals = new EventEmitter();
    const h = installShutdown({
      stopOnWire: () => false, onStop: () => new Promise(() => undefined), timeoutMs: 50,
      notifier: recorder(order), logger: quiet, signals, exit: () => undefined,
    });
    signals.emit('SIGTERM');
    expect(await h.done).toBe(1);
    expect(order).toEqual(['STOPPING=1 STATUS=stopping (SIGTERM)']);
  });
});

describe('unit file and config', () => {
  it('renders a hardened Type=notify unit with the serial device allowed', () => {
    const unit = renderUnitFile({ node: '/usr/bin/node', cli: '/opt/spinal/dist/bin/spinal.js', configPath: '/etc/spinal/edge.json', serialDevice: '/dev/spinal/FT1' });
    for (const line of [
      'Type=notify', 'NotifyAccess=all', 'WatchdogSec=5', 'Restart=on-failure', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
      'NoNewPrivileges=yes', 'SupplementaryGroups=dialout', 'DevicePolicy=closed', 'DeviceAllow=/dev/spinal/FT1 rw',
      'ExecStart=/usr/bin/node /opt/spinal/dist/bin/spinal.js edge --config /etc/spinal/edge.json', 'RuntimeDirectory=spinal',
    ]) expect(unit.split('\n')).toContain(line);
    expect(() => renderUnitFile({ node: 'node', cli: '/x', configPath: '/c', serialDevice: '/d' })).toThrow(/node "node" must be an absolute path/);
  });
  it('lets cameras and the GPU in when asked, and refuses an entry systemd would misread', () => {
    const unit = renderUnitFile({ node: '/usr/bin/node', cli: '/x', configPath: '/c', serialDevice: '/dev/ttyUSB0', extraDevices: ['/dev/video0 rw', 'char-nvhost rw'], extraGroups: ['video'] });
    expect(unit.split('\n')).toEqual(expect.arrayContaining(['DeviceAllow=/dev/video0 rw', 'DeviceAllow=char-nvhost rw', 'SupplementaryGroups=dialout video']));
    expect(() => renderUnitFile({ node: '/n', cli: '/x', configPath: '/c', serialDevice: '/d', extraDevices: ['/dev/video0 rw\nExecStartPre=/bin/sh'] })).toThrow(/device "\/dev\/video0 rw\\nExecStartPre=\/bin\/sh" is not a DeviceAllow= entry/);
    expect(() => renderUnitFile({ node: '/n', cli: '/x', configPath: '/c', serialDevice: '/d', extraGroups: ['Video Group'] })).toThrow('unit file group "Video Group" is not a group name');
  });
  it('the systemd section names the offending key', () => {
    const r = SystemdConfigSchema.safeParse({ notifyHelper: 'relative', stopTimeoutMs: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['notifyHelper', 'stopTimeoutMs']);
    expect(SystemdConfigSchema.parse({})).toEqual({ stopTimeoutMs: 3000 });
  });
});
