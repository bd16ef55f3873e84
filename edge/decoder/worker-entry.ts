/**
 * Where the decoder worker's code is. Compiled (dist/): the sibling decoder-worker.js. From the
 * TypeScript sources (Vitest, which transforms .ts for its own thread only; Node 20 cannot run .ts
 * in a worker): a data: URL bootstrap that registers worker-ts-hooks.mjs (module customization
 * hooks that transpile .ts with the project's TypeScript devDependency, and map "./x.js" imports
 * to "./x.ts") in the worker, then imports decoder-worker.ts. No build step is needed for tests,
 * and dist/ is never read from sources, so a stale build cannot be tested by mistake.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function decoderWorkerUrl(): URL {
  return workerModuleUrl(import.meta.url, 'decoder-worker');
}

/**
 * The URL to start a worker thread on for the module `<name>` beside `from` (the caller's
 * import.meta.url): `<name>.js` when the caller runs compiled, else the bootstrap above for
 * `<name>.ts`. The tick and recorder threads start the same way.
 */
export function workerModuleUrl(from: string, name: string): URL {
  const here = new URL(from);
  if (here.pathname.endsWith('.js')) return new URL(`./${name}.js`, here);
  const entry = new URL(`./${name}.ts`, here);
  const hooks = new URL('./worker-ts-hooks.mjs', import.meta.url);
  if (!existsSync(fileURLToPath(entry)) || !existsSync(fileURLToPath(hooks))) {
    throw new Error(`${name} sources not found next to ${here.href}`);
  }
  const boot = `import { register } from 'node:module'; register(${JSON.stringify(hooks.href)}); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
