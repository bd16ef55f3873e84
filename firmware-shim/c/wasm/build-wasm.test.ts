import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MCU_WASM_BASE64, MCU_WASM_COMPILER } from '../../virtual/mcu-wasm.js';
import { buildMcuWasm, compilerVersion, recordedCompiler, renderMcuWasmModule } from './build-wasm.js';

const here = dirname(fileURLToPath(import.meta.url));
const cDir = resolve(here, '..');
const generated = resolve(here, '../../virtual/mcu-wasm.ts');
const compiler = compilerVersion();

describe('the committed WebAssembly MCU core', () => {
  // Another clang version makes other, equally valid code: the byte comparison needs the pinned
  // one (CI installs it and also runs `npm run mcu-wasm -- --check`, which fails on any mismatch).
  it.skipIf(compiler === null || compiler !== MCU_WASM_COMPILER)(`is the build of firmware-shim/c, byte for byte (no drift; run \`npm run mcu-wasm\` after editing the C) with ${MCU_WASM_COMPILER}`, () => {
    const text = renderMcuWasmModule(buildMcuWasm(cDir), compiler as string);
    expect(readFileSync(generated, 'utf8')).toBe(text);
  });

  it.skipIf(compiler === null)('builds the same bytes from a copy of the sources elsewhere (nothing of the path gets in)', () => {
    const copy = mkdtempSync(join(tmpdir(), 'spinal-wasm-src-'));
    try {
      cpSync(join(cDir, 'include'), join(copy, 'include'), { recursive: true });
      cpSync(join(cDir, 'src'), join(copy, 'src'), { recursive: true });
      cpSync(join(cDir, 'wasm'), join(copy, 'wasm'), { recursive: true });
      expect(Buffer.from(buildMcuWasm(copy)).equals(Buffer.from(buildMcuWasm(cDir)))).toBe(true);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('records its compiler and imports only the three board functions, no C library', () => {
    expect(recordedCompiler(readFileSync(generated, 'utf8'))).toBe(MCU_WASM_COMPILER);
    const wasm = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): { module: string; name: string }[] } } }).WebAssembly;
    const mod = new wasm.Module(Buffer.from(MCU_WASM_BASE64, 'base64'));
    expect(wasm.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort()).toEqual(['env.event', 'env.frame_out', 'env.reset_faults']);
  });
});
