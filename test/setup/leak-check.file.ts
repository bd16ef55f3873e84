/**
 * vitest setupFiles: each test file gets its own lineage tag (`<run>.<random>`) for what it
 * starts, and after its own cleanup (hooks run in stack order: this afterAll, registered first,
 * runs last) none of those processes may still be alive: the file fails, naming them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { LINEAGE_ENV } from '../../edge/process/tethered-child.js';
import { leftoverMessage, reapLeftovers } from './leak-check.js';

const tag = `${process.env[LINEAGE_ENV] ?? 'spinal-test'}.${randomBytes(6).toString('hex')}`;
process.env[LINEAGE_ENV] = tag;

afterAll(async () => {
  const left = await reapLeftovers(tag);
  if (left.length > 0) throw new Error(leftoverMessage('this test file', left));
}, 30_000);
