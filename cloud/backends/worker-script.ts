/**
 * Finds a plain-JavaScript worker script (.mjs) shipped with the sources: tsc copies no .mjs into
 * dist/, so from dist/ the script is looked up under the package root instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `file` beside the module at `moduleUrl`, else `<package root>/<repoDir>/<file>`. */
export function workerScriptPath(moduleUrl: string, repoDir: string, file: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  if (existsSync(join(here, file))) return join(here, file);
  for (let dir = here; ; dir = resolve(dir, '..')) {
    const p = join(dir, repoDir, file);
    if (existsSync(join(dir, 'package.json')) && existsSync(p)) return p;
    if (resolve(dir, '..') === dir) break;
  }
  throw new Error(`${file} not found beside ${here} nor under a package root above it`);
}
