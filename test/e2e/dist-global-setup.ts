/**
 * Vitest global setup of the e2e project: the tests that spawn the CLI run the compiled `dist/`
 * (see spinal-cli.ts), so it is built here, once, when any source it is built from is newer than
 * `dist/bin/spinal.js` (a fresh clone, or sources edited since the last build). `.ci/run` builds
 * before testing, so in CI this finds `dist/` fresh and does nothing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, SPINAL_CLI } from './spinal-cli.js';

/** What tsconfig.build.json compiles, and the files that configure it. */
const SOURCE_DIRS = ['bin', 'proto', 'firmware-shim', 'hardware', 'edge', 'cloud', 'test/bench'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'results', 'public']);

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) newest = Math.max(newest, newestSourceMs(p));
    } else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

function builtMs(): number {
  try {
    return statSync(SPINAL_CLI).mtimeMs;
  } catch {
    return -1;
  }
}

export default function setup(): void {
  let newest = 0;
  for (const d of SOURCE_DIRS) newest = Math.max(newest, newestSourceMs(join(ROOT, d)));
  for (const f of CONFIG_FILES) newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  if (builtMs() >= newest) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
