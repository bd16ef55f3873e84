import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHelperPathSafe, findNotifyHelper, installedHelperPath, NotifyHelperError } from './notify-helper.js';
import { createNotifier } from './sd-notifier.js';

// tmpdir() is sticky and world-writable (accepted); `root` below it is ours, mode 0755.
const root = mkdtempSync(join(tmpdir(), 'spinal-helper-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the installed helper in a fresh directory of mode `dirMode`, file mode `fileMode`. */
function planted(name: string, dirMode: number, fileMode: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  chmodSync(dir, dirMode);
  const file = join(dir, 'sd-notify-helper');
  copyFileSync(installedHelperPath(), file);
  chmodSync(file, fileMode);
  return file;
}

describe('the sd_notify helper is never built at run time, and never run from a path others can write', () => {
  it('uses the helper the install script built, inside the package', () => {
    const found = findNotifyHelper();
    expect(found).toEqual({ ok: true, path: installedHelperPath() });
    expect(installedHelperPath()).toMatch(/\/build\/sd-notify-helper$/);
  });

  it('accepts a helper in a directory only its owner writes', () => {
    const file = planted('good', 0o755, 0o755);
    expect(findNotifyHelper({ path: file })).toEqual({ ok: true, path: file });
  });

  it('refuses a helper whose directory others can write, naming the directory and its mode', () => {
    const file = planted('open-dir', 0o777, 0o755);
    expect(() => findNotifyHelper({ path: file })).toThrow(NotifyHelperError);
    expect(() => findNotifyHelper({ path: file })).toThrow(`refusing the sd_notify helper ${file}: ${join(root, 'open-dir')} (owner uid ${process.geteuid?.()}, mode 0777) is writable by users other than its owner`);
    const group = planted('group-dir', 0o775, 0o755);
    if (process.geteuid?.() === 0) chownSync(join(root, 'group-dir'), 0, 4242); // else: the user's own group
    expect(() => findNotifyHelper({ path: group })).toThrow(/mode 0775\) is writable by users other than its owner/);
  });

  it.runIf(process.geteuid?.() === 0)('accepts group write by root\'s group (a umask of 002 under root)', () => {
    const file = planted('root-group', 0o775, 0o775);
    chownSync(join(root, 'root-group'), process.geteuid?.() ?? 0, 0);
    chownSync(file, process.geteuid?.() ?? 0, 0);
    expect(findNotifyHelper({ path: file })).toEqual({ ok: true, path: file });
  });

  it('refuses a helper file that group or others can write', () => {
    const file = planted('open-file', 0o755, 0o757);
    expect(() => checkHelperPathSafe(file)).toThrow(`refusing the sd_notify helper ${file}: ${file} (owner uid ${process.geteuid?.()}, mode 0757) is writable by users other than its owner`);
  });

  it('refuses a helper reached through a symbolic link in a directory others can write', () => {
    const target = planted('link-target', 0o755, 0o755);
    const open = join(root, 'link-dir');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const link = join(open, 'helper');
    symlinkSync(target, link);
    expect(() => findNotifyHelper({ path: link })).toThrow(/link-dir \(owner uid \d+, mode 0777\) is writable by users other than its owner/);
  });

  it('refuses a helper owned by another user (as root: chown to an unprivileged uid)', () => {
    const euid = process.geteuid?.() ?? -1;
    const file = planted('foreign', 0o755, 0o755);
    // As root: the file goes to an unprivileged uid. Otherwise: the daemon is another user.
    if (euid === 0) chownSync(file, 4242, 4242);
    const daemon = euid === 0 ? 0 : euid + 1;
    const expected = euid === 0 ? `${file} (owner uid 4242, mode 0755) is not owned by root` : `is not owned by root or uid ${daemon}`;
    expect(() => checkHelperPathSafe(file, daemon)).toThrow(expected);
  });

  it('a configured path that is not executable is refused by name', () => {
    expect(() => findNotifyHelper({ path: join(root, 'missing') })).toThrow(`systemd.notifyHelper "${join(root, 'missing')}" is not an executable file`);
  });

  it('createNotifier refuses an unsafe helper instead of running it', () => {
    const file = planted('notifier-open', 0o777, 0o755);
    expect(() => createNotifier({ env: { NOTIFY_SOCKET: '@spinal-never' }, path: file })).toThrow(NotifyHelperError);
  });
});
