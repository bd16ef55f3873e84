/**
 * `spinal models`: writes the reference, benchmark and fused decoders as .onnx files (the lead
 * wires this into the CLI). One model is built, written and dropped at a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelCatalog, selectEntries, type CatalogOptions } from './catalog.js';

export interface RunModelsOptions extends CatalogOptions {
  /** Output folder (created when missing). */
  out: string;
  /** Model names, groups ("reference", "benchmark"), DiT preset names or "all"; default everything
   * except the on-request-only GR00T-sized DiT. */
  which?: string[];
  /** Only list what would be written. */
  list?: boolean;
  log?: (line: string) => void;
}

/** Returns the process exit code: 0 on success, 2 when `which` selects nothing. */
export async function runModels(opts: RunModelsOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const all = modelCatalog(opts);
  const entries = selectEntries(all, opts.which);
  if (entries.length === 0) {
    log(`no model matches ${JSON.stringify(opts.which)}; known: ${all.map((e) => e.name).join(', ')}`);
    return 2;
  }
  const row = (c: string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(46) : x.padStart(12))).join(' ');
  log(row(['model', 'kind', 'params', 'kB', 'build ms']));
  if (!opts.list) mkdirSync(opts.out, { recursive: true });
  for (const e of entries) {
    if (opts.list) {
      log(row([e.name, e.kind, e.parameterCount.toLocaleString('en-US'), '-', '-']));
      continue;
    }
    const t0 = performance.now();
    const bytes = e.build();
    const ms = performance.now() - t0;
    writeFileSync(join(opts.out, `${e.name}.onnx`), bytes);
    log(row([e.name, e.kind, e.parameterCount.toLocaleString('en-US'), (bytes.byteLength / 1e3).toFixed(1), ms.toFixed(0)]));
    await new Promise<void>((r) => setImmediate(r)); // let the previous buffer be collected
  }
  return 0;
}
