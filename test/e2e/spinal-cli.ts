/**
 * How e2e tests start the `spinal` CLI in a child process: the compiled `dist/bin/spinal.js`, as
 * `npm start` and the systemd unit do. Loading the CLI from the TypeScript sources through the
 * module hooks transpiles hundreds of files in every child (33 s for `--help` on a loaded 2-core
 * machine), which made these tests time out under load. `dist-global-setup.ts` builds `dist/` once
 * per run when it is older than the sources, so `npm test` on a fresh clone needs no separate build.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SPINAL_CLI = join(ROOT, 'dist/bin/spinal.js');

/** node's argv for `spinal <args>`, to pass to spawn(process.execPath, ...). */
export function spinalArgv(...args: string[]): string[] {
  return [SPINAL_CLI, ...args];
}
