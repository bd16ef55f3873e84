import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../crc32c.js';
import { compileKernel, renderKernelModule } from './compile-kernel.js';
import { KERNEL_INPUT, createUnstuffKernel } from './unstuff-kernel.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('WebAssembly unstuffing kernel', () => {
  it('unstuff-wasm.ts is the compilation of unstuff.wat (no drift; run `npm run kernel` after editing the .wat)', async () => {
    const bytes = await compileKernel(join(here, 'unstuff.wat'));
    expect(readFileSync(join(here, 'unstuff-wasm.ts'), 'utf8')).toBe(renderKernelModule(bytes));
  });

  it('computes the same CRC-32C as the TypeScript implementation at every length', () => {
    const k = createUnstuffKernel(1024);
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761) >>> 24);
    k.memory.set(data, KERNEL_INPUT);
    for (let n = 0; n <= 300; n++) expect(k.exports.crc(KERNEL_INPUT, n) >>> 0).toBe(crc32c(data, 0, n));
  });

  it('refuses a packet limit outside its packet area', () => {
    expect(() => createUnstuffKernel(8193)).toThrow(/maxPacket=8193/);
    expect(() => createUnstuffKernel(4)).toThrow(/maxPacket=4/);
  });
});
