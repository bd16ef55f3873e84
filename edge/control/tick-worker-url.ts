/**
 * Where the tick worker's code is: the compiled sibling tick-worker.js, or from TypeScript sources
 * (Vitest) a data: URL bootstrap that registers the decoder's TS loader hooks
 * (../decoder/worker-ts-hooks.mjs, see ../decoder/worker-entry.ts) and imports tick-worker.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function tickWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.js')) return new URL('./tick-worker.js', here);
  const entry = new URL('./tick-worker.ts', here);
  const hooks = new URL('../decoder/worker-ts-hooks.mjs', here);
  if (!existsSync(fileURLToPath(entry)) || !existsSync(fileURLToPath(hooks))) throw new Error(`tick worker sources not found next to ${here.href}`);
  const boot = `import { register } from 'node:module'; register(${JSON.stringify(hooks.href)}); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
