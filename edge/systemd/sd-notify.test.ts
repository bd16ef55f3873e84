import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { NotifyListener } from './notify-listener.js';
import { createNotifier, formatNotify } from './sd-notifier.js';
import { SystemdWatchdog } from './watchdog.js';

const dir = mkdtempSync(join(tmpdir(), 'spinal-sdnotify-'));
async function until(what: string, pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('sd_notify over a real datagram socket', () => {
  const listeners: NotifyListener[] = [];
  afterAll(async () => {
    for (const l of listeners) await l.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['a filesystem socket', join(dir, 'notify.sock')],
    ['an abstract socket', `@spinal-test-${process.pid}`],
  ])('READY and STATUS arrive on %s', async (_what, socket) => {
    const listener = await NotifyListener.open(socket);
    listeners.push(listener);
    const notifier = createNotifier({ env: { NOTIFY_SOCKET: socket } });
    expect(notifier.enabled).toBe(true);
    await notifier.notify({ READY: 1, STATUS: 'serial link READY\non /dev/x' });
    await until('READY', () => listener.messages.length === 1);
    expect(listener.messages[0]?.fields).toEqual({ READY: '1', STATUS: 'serial link READY on /dev/x' });
    await notifier.close();
  });

  it('WATCHDOG=1 arrives at half the period while healthy, and stops while unhealthy', async () => {
    const socket = join(dir, 'wd.sock');
    const listener = await NotifyListener.open(socket);
    listeners.push(listener);
    const notifier = createNotifier({ env: { NOTIFY_SOCKET: socket } });
    let healthy = true;
    const wd = new SystemdWatchdog({ notifier, periodUs: 20_000, healthy: () => healthy, clock: systemClock });
    wd.start();
    await until('three pings', () => listener.withKey('WATCHDOG').length >= 3);
    healthy = false;
    await new Promise((r) => setTimeout(r, 100)); // let pings already in flight land
    const n = listener.withKey('WATCHDOG').length;
    await new Promise((r) => setTimeout(r, 120));
    wd.stop();
    expect(listener.withKey('WATCHDOG').length).toBe(n);
    expect(wd.skipped).toBeGreaterThan(3);
    await notifier.close();
  });

  it('reports a socket nobody listens on, naming it, and is a no-op without NOTIFY_SOCKET', async () => {
    const socket = join(dir, 'nobody.sock');
    const notifier = createNotifier({ env: { NOTIFY_SOCKET: socket } });
    await expect(notifier.notify({ READY: 1 })).rejects.toThrow(new RegExp(`${socket}: No such file`));
    await notifier.close();
    const none = createNotifier({ env: {} });
    expect(none.enabled).toBe(false);
    await expect(none.notify({ READY: 1 })).resolves.toBeUndefined();
  });

  it('refuses a key that is not an sd_notify variable name', () => {
    expect(() => formatNotify({ 'ready=1\nX': 1 })).toThrow(/sd_notify key "ready=1\\nX"/);
  });
});
