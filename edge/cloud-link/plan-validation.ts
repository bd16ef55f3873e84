/**
 * Plan validation, a pure function of the plan, what the link sent, and the time of receipt. A plan
 * that fails any check is rejected and counted; it never reaches the decoder or the scheduler
 * (bad numbers never reach the wire). A plan carries a latent or (protocol 1.1) an action chunk.
 * Checks, in order:
 *   dims                a latent plan's length differs from the announced latent_dim
 *   non-finite          a NaN or ±Inf in the latent or the chunk
 *   chunk               an action chunk that does not fit the robot (rows, joints, step, size,
 *                       targets outside a joint's range), or a latent beside it
 *   out-of-order        plan_id not above the last accepted plan's
 *   unknown-observation answers a seq this link never sent (or sent too long ago to remember)
 *   older-than-current  answers an observation older than the current plan's
 *   too-old             the answered observation was captured more than maxObservationAgeMs ago
 *   expired             capture + valid_for_ms is not after the time of receipt
 */
import { checkActionChunk, firstNonFinite, planExpiresAtUs, type ActionChunk, type Joint } from '../../proto/brain/index.js';
import type { SentObservations, SentStamps } from './sent-observations.js';

export const PLAN_REJECT_REASONS = ['dims', 'non-finite', 'chunk', 'out-of-order', 'unknown-observation', 'older-than-current', 'too-old', 'expired'] as const;
export type PlanRejectReason = (typeof PLAN_REJECT_REASONS)[number];

/** The fields of a wire Plan that validation reads. */
export interface PlanFields {
  planId: number;
  observationSeq: number;
  latent: ArrayLike<number>;
  validForMs: number;
  actionChunk?: ActionChunk | null;
}

export interface PlanContext {
  latentDim: number;
  /** The robot's joints as announced in Hello (action chunks are checked against them). */
  joints: readonly Joint[];
  /** plan_id of the last accepted plan; -1 before any. */
  lastPlanId: number;
  /** observation_seq of the last accepted plan; -1 before any. */
  lastPlanObservationSeq: number;
  maxObservationAgeMs: number;
  sent: SentObservations;
  /** µs, edge clock: when the plan arrived. */
  nowUs: number;
}

export type PlanVerdict =
  | { ok: true; captureUs: number; sendUs: number; expiresAtUs: number }
  | { ok: false; reason: PlanRejectReason; detail: string };

const scratch: SentStamps = { captureUs: 0, sendUs: 0 };

export function validatePlan(plan: PlanFields, ctx: PlanContext): PlanVerdict {
  const n = plan.latent.length;
  const chunk = plan.actionChunk ?? null;
  if (chunk !== null) {
    if (n !== 0) return { ok: false, reason: 'chunk', detail: `plan ${plan.planId}: carries both an action chunk and a latent of ${n} values` };
    const issue = checkActionChunk(chunk, ctx.joints);
    if (issue !== null) return { ok: false, reason: issue.reason === 'chunk-not-finite' ? 'non-finite' : 'chunk', detail: `plan ${plan.planId}: ${issue.message}` };
  } else {
    if (n !== ctx.latentDim) return { ok: false, reason: 'dims', detail: `plan ${plan.planId}: latent has ${n} values, expected ${ctx.latentDim}` };
    const bad = firstNonFinite(plan.latent);
    if (bad >= 0) return { ok: false, reason: 'non-finite', detail: `plan ${plan.planId}: latent[${bad}] is ${String(plan.latent[bad])}` };
  }
  if (plan.planId <= ctx.lastPlanId) return { ok: false, reason: 'out-of-order', detail: `plan ${plan.planId} is not after the accepted plan ${ctx.lastPlanId}` };
  if (!ctx.sent.lookup(plan.observationSeq, scratch)) {
    return { ok: false, reason: 'unknown-observation', detail: `plan ${plan.planId} answers observation ${plan.observationSeq}, which this link does not know` };
  }
  if (plan.observationSeq < ctx.lastPlanObservationSeq) {
    return { ok: false, reason: 'older-than-current', detail: `plan ${plan.planId} answers observation ${plan.observationSeq}, older than the current plan's ${ctx.lastPlanObservationSeq}` };
  }
  const ageMs = (ctx.nowUs - scratch.captureUs) / 1000;
  if (ageMs > ctx.maxObservationAgeMs) {
    return { ok: false, reason: 'too-old', detail: `plan ${plan.planId} answers observation ${plan.observationSeq} captured ${ageMs.toFixed(1)} ms ago (limit ${ctx.maxObservationAgeMs} ms)` };
  }
  const expiresAtUs = planExpiresAtUs(scratch.captureUs, plan.validForMs);
  if (!(expiresAtUs > ctx.nowUs)) {
    return { ok: false, reason: 'expired', detail: `plan ${plan.planId} valid for ${plan.validForMs} ms expired ${((ctx.nowUs - expiresAtUs) / 1000).toFixed(1)} ms before it arrived` };
  }
  return { ok: true, captureUs: scratch.captureUs, sendUs: scratch.sendUs, expiresAtUs };
}
