/**
 * A benchmark's child process entry: `<name>.js` beside this module when running compiled (from
 * dist/), else `<name>.ts` loaded through the project's TypeScript hooks (running from sources).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function benchChildEntry(name: string): { path: string; execArgv: string[] } {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.js')) return { path: fileURLToPath(new URL(`./${name}.js`, here)), execArgv: [] };
  const hooks = new URL('../../edge/decoder/worker-ts-hooks.mjs', here);
  if (!existsSync(fileURLToPath(hooks))) throw new Error('TypeScript hooks not found; run the benchmark from dist/');
  const boot = `import { register } from 'node:module'; register(${JSON.stringify(hooks.href)});`;
  return { path: fileURLToPath(new URL(`./${name}.ts`, here)), execArgv: ['--import', `data:text/javascript,${encodeURIComponent(boot)}`] };
}
