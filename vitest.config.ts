import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// Every process this run starts carries this tag (SPINAL_LINEAGE, see test/setup/leak-check.ts):
// what is still alive after a test file, or after the run, fails it.
const lineage = `spinal-test-${process.pid}-${randomBytes(4).toString('hex')}`;
process.env.SPINAL_LINEAGE = lineage;

const shared = {
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 30_000,
  env: { SPINAL_LINEAGE: lineage },
  setupFiles: ['test/setup/leak-check.file.ts'],
};

export default defineConfig({
  test: {
    // PTY and timing tests share two cores with the runner; more workers only add jitter.
    maxWorkers: 2,
    globalSetup: ['test/setup/leak-check.global.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', 'test/e2e/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // End-to-end runs over real PTYs at 1 kHz: after the unit tests, one file at a time, so a
        // CPU-bound neighbour cannot stall the firmware loop or the link.
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Tests that spawn the CLI run dist/; built here when older than the sources.
          globalSetup: ['test/e2e/dist-global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
