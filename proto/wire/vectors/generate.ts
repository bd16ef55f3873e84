/** Writes the conformance vectors: NAME.bin (the stream), NAME.events (one line per event), and MANIFEST. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildVectors } from './build.js';

export function writeVectors(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const vectors = buildVectors();
  const manifest: string[] = [];
  for (const v of vectors) {
    writeFileSync(join(dir, `${v.name}.bin`), v.bytes);
    writeFileSync(join(dir, `${v.name}.events`), v.events.join('\n') + '\n');
    manifest.push(`${v.name} ${v.kind}`);
  }
  writeFileSync(join(dir, 'MANIFEST'), manifest.join('\n') + '\n');
  return vectors.length;
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Compiled to dist/proto/wire/vectors; the committed vectors live in the source tree.
  const target = process.argv[2] ?? resolve(here, '../../../../proto/wire/vectors');
  const n = writeVectors(target);
  console.log(`wrote ${n} vectors to ${target}`);
}
