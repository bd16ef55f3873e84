/**
 * Where the recorder's writer thread code is: the compiled sibling recorder-worker.js, or from
 * TypeScript sources (Vitest) a data: URL bootstrap that registers the decoder's TS loader hooks
 * (as the tick worker does) and imports recorder-worker.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function recorderWorkerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.js')) return new URL('./recorder-worker.js', here);
  const entry = new URL('./recorder-worker.ts', here);
  const hooks = new URL('../decoder/worker-ts-hooks.mjs', here);
  if (!existsSync(fileURLToPath(entry)) || !existsSync(fileURLToPath(hooks))) throw new Error(`recorder worker sources not found next to ${here.href}`);
  const boot = `import { register } from 'node:module'; register(${JSON.stringify(hooks.href)}); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
