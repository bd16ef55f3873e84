/**
 * Runs decode requests one at a time on a DecoderCore, in the thread that owns the core (the
 * worker, or the caller's thread for the in-thread executor), with cancellation through a shared
 * control word pair that the requesting side writes and the sampler polls between denoising steps
 * (so it works even while this thread never returns to its event loop):
 *   control[SUPERSEDED] = s: every request with id < s is superseded (a newer plan arrived)
 *   control[CANCELLED]  = c: every request with id < c is cancelled
 * Invariant: both words only grow; ids grow by one per request. A fused model is one call and
 * cannot be stopped inside it: cancellation takes effect when it returns.
 */
import type { DecoderCore } from './decoder-core.js';
import { toErrorData } from './decoder-error.js';
import type { CancelReason, ChunkRequest, DecodeOutcome } from './decode-request.js';

export const SUPERSEDED = 0;
export const CANCELLED = 1;
export const CONTROL_WORDS = 2;

export function cancelReason(control: Int32Array, id: number): CancelReason | null {
  if (id < Atomics.load(control, CANCELLED)) return 'cancelled';
  if (id < Atomics.load(control, SUPERSEDED)) return 'superseded';
  return null;
}

/** Raises a control word to at least `value`. */
export function raiseControl(control: Int32Array, word: number, value: number): void {
  for (;;) {
    const cur = Atomics.load(control, word);
    if (cur >= value || Atomics.compareExchange(control, word, cur, value) === cur) return;
  }
}

/** One request: its outcome, with `actions` copied into a fresh buffer the caller owns. */
export async function runRequest(core: DecoderCore, control: Int32Array, id: number, req: ChunkRequest): Promise<DecodeOutcome> {
  const before = cancelReason(control, id);
  if (before !== null) return { status: 'cancelled', id, reason: before, evaluations: 0 };
  const t0 = performance.now();
  try {
    const r = await core.decode(req, () => cancelReason(control, id) !== null);
    if (r.status === 'stopped') return { status: 'cancelled', id, reason: cancelReason(control, id) ?? 'cancelled', evaluations: r.evaluations };
    return {
      status: 'done', id, actions: r.actions.slice(), sampler: r.sampler, steps: r.steps,
      timing: { decodeMs: performance.now() - t0, modelMs: r.modelMs, evaluations: r.evaluations },
    };
  } catch (e) {
    return { status: 'failed', id, error: toErrorData(e, 'bad-request') };
  }
}
