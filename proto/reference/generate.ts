/**
 * `npm run docs`: writes docs/mqtt.md, docs/brain-api.md and SPEC.md's message table from the code.
 * `--check` writes nothing and exits 1 naming each file that differs (proto/reference/reference.test.ts
 * does the same in the test suite).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBrainDoc } from './brain-doc.js';
import { renderMqttDoc } from './mqtt-doc.js';
import { withMessageTable } from './serial-table.js';

/** Each generated file: its path under the repository root and its expected content. */
export function generatedFiles(root: string): { path: string; content: string }[] {
  const spec = join(root, 'proto/wire/SPEC.md');
  return [
    { path: join(root, 'docs/mqtt.md'), content: renderMqttDoc() + '\n' },
    { path: join(root, 'docs/brain-api.md'), content: renderBrainDoc(join(root, 'proto/brain/brain.proto')) + '\n' },
    { path: spec, content: withMessageTable(readFileSync(spec, 'utf8')) },
  ];
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Compiled to dist/proto/reference; the sources live three levels up from dist/.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const f of generatedFiles(root)) {
    if (read(f.path) === f.content) continue;
    if (check) {
      console.error(`docs: ${f.path} differs from what the code generates; run npm run docs`);
      stale++;
    } else {
      writeFileSync(f.path, f.content);
      console.log(`docs: wrote ${f.path}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
