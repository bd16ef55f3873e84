/**
 * Model-based safety test: random sequences of what operators, the brain, the MCU and the line
 * can do (safety-commands.ts), run against the composed edge safety path on an injected clock
 * (model-rig.ts), with the invariants of safety-invariants.ts checked after every step. A failure
 * prints fast-check's seed and path and the shrunk sequence with its replayPath (replay:
 * SAFETY_MODEL_SEED, SAFETY_MODEL_PATH and SAFETY_MODEL_REPLAY). SAFETY_MODEL_RUNS overrides the number of sequences; the long run is the
 * `safety-model` benchmark.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { safetyProperty } from './safety-commands.js';

/** Sequences per `npm test`: a few seconds on a busy two-core machine. */
const RUNS = Number(process.env['SAFETY_MODEL_RUNS'] ?? 100);

describe('safety model', () => {
  test(`${RUNS} random sequences keep every safety invariant`, async () => {
    const seed = process.env['SAFETY_MODEL_SEED'];
    const path = process.env['SAFETY_MODEL_PATH'];
    const replayPath = process.env['SAFETY_MODEL_REPLAY'];
    const details = await fc.check(safetyProperty({ maxCommands: 30, ...(replayPath !== undefined ? { replayPath } : {}) }), {
      numRuns: RUNS,
      ...(seed !== undefined ? { seed: Number(seed) } : {}),
      ...(path !== undefined ? { path } : {}),
      endOnFailure: false,
    });
    // On failure the whole report: seed, path, the shrunk sequence and the violated invariant.
    const report = details.failed
      ? `${fc.defaultReportMessage(details) ?? 'failed'}\nreplay: SAFETY_MODEL_SEED=${details.seed} SAFETY_MODEL_PATH=${details.counterexamplePath ?? ''} SAFETY_MODEL_REPLAY=<the replayPath above>`
      : 'ok';
    expect(report).toBe('ok');
  }, 300_000);
});
