#!/usr/bin/env node
// Builds the sd_notify relay (sd-notify-helper.c) into <package>/build/sd-notify-helper. Run by
// npm as the package's "install" script, so the binary is made once, by whoever installs the
// package, inside the package's own directory: the daemon never compiles or fetches code at run
// time, and never runs a helper from a place other users can write (notify-helper.ts checks).
//
// Without a C compiler this prints why and exits 0: the install succeeds and the edge daemon runs
// without sd_notify, saying so at start. Plain JavaScript with no dependencies: it runs before
// the TypeScript is built. CC overrides the compiler (default "cc").
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const source = join(here, 'sd-notify-helper.c');
const outDir = join(root, 'build');
const out = join(outDir, 'sd-notify-helper');
const cc = process.env.CC || 'cc';

if (process.platform !== 'linux') {
  console.log(`spinal: sd_notify helper not built (${process.platform} is not Linux; systemd integration is Linux-only)`);
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
// Whatever the umask, only the owner (the installer) may write here.
chmodSync(outDir, 0o755);
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, ['-O2', '-std=c99', '-Wall', '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (e) {
  rmSync(tmp, { force: true });
  const why = e.code === 'ENOENT' ? `no C compiler "${cc}" on the PATH` : String(e.stderr ?? e.message).trim().split('\n')[0];
  console.log(`spinal: sd_notify helper not built (${why}); the edge daemon will run without sd_notify. ` +
    'Install a C compiler and run "node edge/systemd/build-notify-helper.mjs" in the package directory, or set systemd.notifyHelper.');
  process.exit(0);
}
chmodSync(tmp, 0o755);
renameSync(tmp, out);
console.log(`spinal: built ${out}`);
